// The illumos-track runners (src/check/illumos/run.ts): what can be checked off
// illumos is the argv they build and that they refuse to run elsewhere (exit 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dtraceArgs, mdbInput, requireIllumos, runDScript } from '../../src/check/illumos/run';
import { CheckEnvironmentError } from '../../src/check/types';

test('dtrace argv: -q, -Z for not-yet-created provider probes, -c or -p, macro args', () => {
  assert.deepEqual(dtraceArgs({ script: '/l/file_probes.d', command: 'node file.js', allowMissing: true }), ['-q', '-Z', '-s', '/l/file_probes.d', '-c', 'node file.js']);
  assert.deepEqual(dtraceArgs({ script: 'x.d', pid: 42, args: ['7'] }), ['-q', '-s', 'x.d', '-p', '42', '7']);
  assert.throws(() => dtraceArgs({ script: 'x.d', pid: 1, command: 'c' }), /not both/);
});

test('mdb input loads mdb_v8 first and quits', () => {
  assert.equal(mdbInput(['::findjsobjects']), '::load v8\n::findjsobjects\n$q\n');
  assert.equal(mdbInput(['::status'], false), '::status\n$q\n');
});

test('off illumos the runners refuse with exit-3 advice instead of running anything', async () => {
  assert.throws(() => requireIllumos(['dtrace'], 'linux'), (e: CheckEnvironmentError) => e instanceof CheckEnvironmentError && /vm\/README.md/.test(e.fix));
  if (process.platform !== 'sunos') {
    await assert.rejects(runDScript({ script: 'x.d' }, { timeoutMs: 1000 }), CheckEnvironmentError);
  }
});
