/**
 * The package's JavaScript contract without a tracer: dtrace-provider's errors and
 * return values, lazy callbacks, the no-op fallback when the addon is missing (and
 * its TRACELAB_USDT_DEBUG message), and ES5-only syntax so it loads on Node 6.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as acorn from 'acorn';
import { ADDON, PKG_DIR, cleanup, tmpDir } from './helpers';

after(cleanup);

// eslint-disable-next-line @typescript-eslint/no-var-requires
const load = () => require(PKG_DIR);

test('api: the JS files parse as ES5, so the illumos track (Node 6) can load them', () => {
  for (const f of ['index.js', 'http-probes.js', 'scripts/build.js', 'examples/demo.js']) {
    const src = fs.readFileSync(path.join(PKG_DIR, f), 'utf8');
    assert.doesNotThrow(() => acorn.parse(src, { ecmaVersion: 5, sourceType: 'script', allowReturnOutsideFunction: true }), f);
  }
});

test('api: dtrace-provider errors and return values', () => {
  const d = load();
  assert.throws(() => d.createDTraceProvider(), TypeError);
  assert.throws(() => d.createDTraceProvider(''), TypeError);
  const prov = d.createDTraceProvider('apitest');
  assert.throws(() => prov.addProbe(), TypeError);
  const p = prov.addProbe('p', 'int', 'char *', 'json');
  assert.equal(p.name, 'p');
  // A non-function callback throws even untraced, as in dtrace-provider.
  assert.throws(() => p.fire('not a function'), /Must give probe value callback/);
  assert.throws(() => prov.fire('p', 42), /Must give probe value callback/);
  assert.throws(() => prov.fire(1, () => []), /Must give probe name/);
  prov.enable();
  let called = 0;
  if (!d.traced()) {
    // Untraced: undefined, and the callback is never called.
    assert.equal(p.fire(() => { called++; return [1, 'a', {}]; }), undefined);
    assert.equal(prov.fire('p', () => { called++; return [1, 'a', {}]; }), undefined);
    assert.equal(called, 0);
  }
  assert.equal(prov.fire('no-such-probe', () => { called++; return []; }), undefined);
  assert.equal(prov.removeProbe(p), p);
  assert.equal(prov.fire('p', () => { called++; return []; }), undefined);
  assert.equal(called, 0);
});

test('api: type names map like dtrace-provider (unknown types are ints)', () => {
  const prov = load().createDTraceProvider('apitypes');
  assert.deepEqual(prov.addProbe('t', 'int', 'char *', 'char*', 'json', 'id').kinds, ['int', 'str', 'str', 'json', 'int']);
});

test('api: on Linux addonPath names the built addon', { skip: process.platform !== 'linux' || !fs.existsSync(ADDON) ? 'addon not built here' : false }, () => {
  const d = load();
  assert.equal(d.addonPath, ADDON);
  assert.equal(d.loadError, null);
});

test('api: without the addon it is a silent no-op, and says why once with TRACELAB_USDT_DEBUG', () => {
  const dir = tmpDir();
  fs.copyFileSync(path.join(PKG_DIR, 'index.js'), path.join(dir, 'index.js'));
  const script = `
    var d = require(${JSON.stringify(dir)});
    var a = d.createDTraceProvider('x'), b = d.createDTraceProvider('y');
    var p = a.addProbe('p', 'int'); a.enable(); b.enable();
    var called = 0;
    var r = p.fire(function () { called++; return [1]; });
    console.log(JSON.stringify({ addonPath: d.addonPath, loadError: !!d.loadError, r: r === undefined ? 'undefined' : r, called: called }));`;
  const env = { ...process.env };
  delete env.TRACELAB_USDT_DEBUG;
  const quiet = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.deepEqual(JSON.parse(quiet.stdout), { addonPath: null, loadError: process.platform === 'linux', r: 'undefined', called: 0 });
  assert.equal(quiet.stderr, '', 'silent unless TRACELAB_USDT_DEBUG is set');

  const loud = spawnSync(process.execPath, ['-e', script], { env: { ...env, TRACELAB_USDT_DEBUG: '1' }, encoding: 'utf8' });
  assert.equal(loud.status, 0, loud.stderr);
  if (process.platform === 'linux') {
    const msgs = loud.stderr.split('\n').filter((l) => l.includes('USDT addon not loaded'));
    assert.equal(msgs.length, 1, `one message, got: ${loud.stderr}`);
    assert.match(msgs[0], /^dtrace-provider \(tracelab\): USDT addon not loaded, probes will not fire/);
  }
});
