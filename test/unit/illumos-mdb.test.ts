// Parsers for mdb + mdb_v8 output (src/check/illumos/mdb.ts), run on the talk's
// captured lab-5 session (test/unit/illumos-captures.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFindJsObjects, groupsByConstructor, parseJsPrint } from '../../src/check/illumos/mdb';
import * as cap from './illumos-captures';

test('::findjsobjects table: every row, wrapped property lists joined, "..." dropped', () => {
  const g = parseFindJsObjects(cap.TALK_FINDJSOBJECTS);
  assert.equal(g.length, 10);
  assert.deepEqual(g[0], { addr: '8ff2d40d', objects: 1, props: 0, constructor: 'Module', propNames: [] });
  assert.equal(g[4].constructor, '<anonymous> (as <anon>)');
  const nm = g.find((x) => x.addr === '854d6579')!;
  assert.deepEqual(nm, { addr: '854d6579', objects: 20, props: 4, constructor: 'NativeModule', propNames: ['filename', 'id', 'exports', 'loaded'] });
  const big = g.find((x) => x.addr === '854cad65')!;
  assert.deepEqual(big.propNames, ['O_NOFOLLOW', 'EOVERFLOW', 'EWOULDBLOCK']);
  assert.equal(big.props, 177);
  assert.deepEqual(groupsByConstructor(g, 'Object').map((x) => x.objects), [144, 1]);
  assert.equal(groupsByConstructor(g, 'Array')[0].objects, 306);
});

test('::jsprint of several objects with an mdb warning between them', () => {
  const r = parseJsPrint(cap.TALK_JSPRINT);
  assert.deepEqual(r.warnings, ['mdb: 99c08525: unknown JavaScript object type "Map"']);
  assert.equal(r.values.length, 3);
  assert.deepEqual(r.values[0], { filename: 'tty.js', id: 'tty', exports: {}, loaded: true });
  // the object mdb could not read: numbers where strings were, an empty id
  assert.deepEqual(r.values[1], { filename: 33564671, id: { $raw: '' }, exports: 36, loaded: 209715541 });
  assert.deepEqual(r.values[2], { filename: 'vm.js', id: 'vm', exports: { $raw: 'function Script' }, loaded: true });
});

test('::jsprint nested objects, arrays and escapes (constructed in mdb_v8\'s layout, not a capture)', () => {
  const r = parseJsPrint('{\n    name: "a \\"q\\"",\n    list: [\n        1,\n        "two",\n        null,\n    ],\n    inner: {\n        ok: false,\n    },\n}\n');
  assert.deepEqual(r.values, [{ name: 'a "q"', list: [1, 'two', null], inner: { ok: false } }]);
});

test('garbage in gives no values and never loops', () => {
  assert.deepEqual(parseJsPrint('}}} ::: ,,,\n').values.every((v) => typeof v === 'object'), true);
  assert.deepEqual(parseFindJsObjects('nothing here\n'), []);
});
