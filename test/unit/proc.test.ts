import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBounded, spawnGroup, stopAll, waitForOutput, cleanBpftraceStderr } from '../../src/check/proc';

import * as fs from 'fs';

/** Running, not a zombie waiting for a reaper (killed orphans linger as zombies in containers). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

test('runBounded kills a hanging command and its children at the timeout', async () => {
  // The shell starts a background sleeper and prints its pid, then hangs itself.
  const r = await runBounded('sh', ['-c', 'sleep 30 & echo $!; sleep 30'], { timeoutMs: 300 });
  assert.equal(r.timedOut, true);
  const child = Number(r.stdout.trim());
  assert.ok(child > 0, 'the background pid was printed');
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(alive(child), false, 'the grandchild was killed with its group');
});

test('runBounded caps output and reports truncation', async () => {
  const r = await runBounded('sh', ['-c', 'yes flood | head -c 5000000'], { timeoutMs: 10_000, maxOutputBytes: 1000 });
  assert.equal(r.code, 0);
  assert.equal(r.stdout.length, 1000);
  assert.equal(r.truncated, true);
});

test('runBounded reports a missing command as exit 127, not a throw', async () => {
  const r = await runBounded('/nonexistent/tool', [], { timeoutMs: 1000 });
  assert.equal(r.code, 127);
  assert.match(r.stderr, /ENOENT/);
});

test('spawnGroup + waitForOutput + stopAll leave nothing behind', async () => {
  const p = spawnGroup('sh', ['-c', 'sleep 30 & echo child=$!; echo ready; sleep 30']);
  await waitForOutput(p, (o) => o.includes('ready'), 5000, 'ready');
  const child = Number(/child=(\d+)/.exec(p.output())![1]);
  await stopAll();
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(alive(p.pid), false);
  assert.equal(alive(child), false);
});

test('waitForOutput rejects clearly when the process exits first', async () => {
  const p = spawnGroup('sh', ['-c', 'echo boom; exit 3']);
  await assert.rejects(waitForOutput(p, (o) => o.includes('never'), 5000, 'the banner'), /exited \(code 3\) before the banner/);
});

test('cleanBpftraceStderr drops only the RLIMIT_MEMLOCK noise', () => {
  const s = "ERROR: failed to set RLIMIT_MEMLOCK: Operation not permitted\nstdin:1:1-5: ERROR: syntax error";
  assert.equal(cleanBpftraceStderr(s), 'stdin:1:1-5: ERROR: syntax error');
});
