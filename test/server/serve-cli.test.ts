/**
 * `tracelab serve` as a user runs it: --help, the warning for a non-loopback address,
 * and set-up's link that puts `tracelab` on PATH (scripts/setup.d/50-path.sh).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO, tempData, cleanupData } from './harness';
import { startServe, Serve } from '../helpers/portal';

const TRACELAB = path.join(REPO, 'bin', 'tracelab');
const dirs: string[] = [];
after(() => dirs.forEach(cleanupData));

test('tracelab serve --help exits 0 and lists --port, --host and --data', () => {
  const r = spawnSync(process.execPath, [TRACELAB, 'serve', '--help'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^usage: tracelab serve/m);
  for (const opt of ['--port N', '--host ADDR', '--data DIR']) assert.match(r.stdout, new RegExp(`^  ${opt} `, 'm'), opt);
});

/** `tracelab serve --port 0 --data <tmp> ...args` until it prints its login URL; SIGTERM, then its exit code and stderr. */
async function serveOnce(args: string[], meanwhile: (s: Serve) => Promise<void> = async () => undefined): Promise<{ code: number | null; err: string; data: string }> {
  const data = tempData();
  dirs.push(data);
  const s = await startServe({ port: 0, data, args, ready: /\?token=/ });
  const exited = new Promise<number | null>((resolve) => s.child.on('exit', (code) => resolve(code)));
  try {
    await meanwhile(s);
  } finally {
    s.child.kill('SIGTERM');
  }
  return { code: await exited, err: s.err(), data };
}

test('tracelab serve --host 0.0.0.0 warns on stderr, serves, and stops cleanly on SIGTERM', async () => {
  const { code, err, data } = await serveOnce(['--host', '0.0.0.0'], async (s) => {
    // Listening once the login URL is printed; the warning is printed just before it.
    assert.match(s.err(), /^tracelab serve: WARNING: listening on 0\.0\.0\.0, not loopback: anyone who can reach this address/m);
    const port = Number(/:([0-9]+)\/\?token=/.exec(s.out())![1]);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    await res.arrayBuffer();
    assert.ok(res.status < 500, `the portal answers (${res.status})`);
  });
  assert.equal(code, 0, err);
  assert.match(err, /SIGTERM: shutting down/);
  // Nothing opened a terminal: no tmux server was started for this data dir (none left behind).
  const sock = path.join(data, 'tmux.sock');
  const ls = spawnSync('tmux', ['-S', sock, 'list-sessions'], { encoding: 'utf8' });
  assert.notEqual(ls.status, 0, `a tmux server runs on ${sock}: ${ls.stdout}`);
});

test('tracelab serve on 127.0.0.1 gives no warning', async () => {
  const { code, err } = await serveOnce([]);
  assert.equal(code, 0, err);
  assert.doesNotMatch(err, /WARNING/);
});

test('set-up links tracelab onto PATH: idempotent, relinks from another clone, leaves a real file alone', () => {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bin-'));
  dirs.push(bin);
  const step = path.join(REPO, 'scripts', 'setup.d', '50-path.sh');
  const run = (root: string) => spawnSync('bash', [step], { encoding: 'utf8', env: { ...process.env, ROOT: root, TRACELAB_BIN_DIR: bin } });
  const link = path.join(bin, 'tracelab');

  let r = run(REPO);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readlinkSync(link), TRACELAB);
  // The link works as the command: it finds this clone's build through the link.
  const help = spawnSync(link, ['serve', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /usage: tracelab serve/);

  r = run(REPO);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /already/);
  assert.equal(fs.readlinkSync(link), TRACELAB);

  const other = path.join(bin, 'other-clone');
  r = run(other);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readlinkSync(link), path.join(other, 'bin', 'tracelab'));
  assert.match(r.stdout, /pointed to .*; now ->/);

  fs.rmSync(link);
  fs.writeFileSync(link, '#!/bin/sh\necho mine\n');
  r = run(REPO);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readFileSync(link, 'utf8'), '#!/bin/sh\necho mine\n', 'a file that is not a link is kept');
  assert.match(r.stderr, /not a link; left alone/);
});
