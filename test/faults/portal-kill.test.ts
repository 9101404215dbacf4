/**
 * kill -9 of a real `tracelab serve` (a child process) while a terminal streams heavy
 * output, then a restart on the same data dir: the stored check result is still there,
 * the session cookie still works, and the terminal re-attaches to the same shell (tmux).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, ChildProcess } from 'child_process';
import { tempData, cleanupData, login, TermClient, FIXTURE_LABS, REPO } from '../server/harness';
import * as path from 'path';

const CLI = path.join(REPO, 'bin', 'tracelab');

/** Start `tracelab serve` on a free port; resolve its base URL and login token. */
function serve(data: string): Promise<{ proc: ChildProcess; base: string; token: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', data, '--labs', FIXTURE_LABS], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const t = setTimeout(() => reject(new Error(`tracelab serve printed no URL: ${out}`)), 20_000);
    const onData = (b: Buffer) => {
      out += b;
      const m = /(http:\/\/[^\s/]+\/)\?token=([A-Za-z0-9_-]+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ proc, base: m[1], token: m[2] });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`tracelab serve exited (${code}): ${out}`)));
  });
}

test('kill -9 of the portal during heavy output: results kept, session kept, terminal re-attaches', { timeout: 90_000 }, async () => {
  const data = tempData();
  let p1: ChildProcess | null = null;
  let p2: ChildProcess | null = null;
  try {
    const s1 = await serve(data);
    p1 = s1.proc;
    const cookie = await login(s1.base, s1.token);
    const origin = s1.base.replace(/\/$/, '');
    // A stored result from before the crash.
    const chk = await fetch(s1.base + 'api/labs/00-hello/check', { method: 'POST', headers: { cookie, Origin: origin, 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(chk.status, 200);
    const before = await chk.json();
    const t = new TermClient(`${s1.base.replace('http:', 'ws:')}api/terminal?cols=100&rows=30`, { Origin: origin, cookie });
    await t.until(() => /tracelab/.test(t.text), 'prompt');
    t.type('export TL_KILL_MARK=kept-$((6*7)); seq 1 2000000\r');
    await t.until(() => t.text.length > 500_000, 'heavy output streaming', 30_000);
    // The crash: no shutdown handler runs.
    p1.kill('SIGKILL');
    await new Promise((r) => p1!.once('exit', r));
    await t.until(() => t.closed !== null, 'the socket dropped');

    const s2 = await serve(data);
    p2 = s2.proc;
    const origin2 = s2.base.replace(/\/$/, '');
    const last = await (await fetch(s2.base + 'api/labs/00-hello/check', { headers: { cookie } })).json();
    assert.ok(last, 'the stored result survived');
    assert.equal(last.exitCode, before.exitCode);
    // (the answer's checkedAt and the stored row's are taken a moment apart: compare what was said)
    assert.deepEqual(last.error ?? last.result, before.error ?? before.result);
    const u = new TermClient(`${s2.base.replace('http:', 'ws:')}api/terminal?cols=100&rows=30`, { Origin: origin2, cookie });
    try {
      await u.until(() => u.controls.some((c) => c.t === 'status' && c.state === 'attached'), 'attached after restart');
      u.type('echo mark=$TL_KILL_MARK\r');
      await u.until(() => /mark=kept-42/.test(u.text), 'the same shell, with its variable (after seq ends)', 60_000);
    } finally {
      await u.close();
    }
  } finally {
    for (const p of [p1, p2]) if (p && p.exitCode === null) p.kill('SIGKILL');
    cleanupData(data);
  }
});
