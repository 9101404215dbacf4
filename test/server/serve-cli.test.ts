/**
 * `tracelab serve` as a user runs it: --help, the warning for a non-loopback address,
 * and set-up's link that puts `tracelab` on PATH (scripts/setup.d/50-path.sh).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO, tempData, cleanupData } from './harness';

const TRACELAB = path.join(REPO, 'bin', 'tracelab');
const dirs: string[] = [];
after(() => dirs.forEach(cleanupData));

test('tracelab serve --help exits 0 and lists --port, --host and --data', () => {
  const r = spawnSync(process.execPath, [TRACELAB, 'serve', '--help'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^usage: tracelab serve/m);
  for (const opt of ['--port N', '--host ADDR', '--data DIR']) assert.match(r.stdout, new RegExp(`^  ${opt} `, 'm'), opt);
});

test('tracelab serve --host 0.0.0.0 warns on stderr, serves, and stops cleanly on SIGTERM', async () => {
  const data = tempData();
  dirs.push(data);
  const child = spawn(process.execPath, [TRACELAB, 'serve', '--host', '0.0.0.0', '--port', '0', '--data', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_TEST_CONTEXT: '' },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (err += b));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    // Listening once the login URL is printed; the warning is printed just before it.
    for (let i = 0; i < 200 && !/\?token=/.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /\?token=/, `no login URL:\n${out}\n${err}`);
    assert.match(err, /^tracelab serve: WARNING: listening on 0\.0\.0\.0, not loopback: anyone who can reach this address/m);
    const port = Number(/:([0-9]+)\/\?token=/.exec(out)![1]);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    await res.arrayBuffer();
    assert.ok(res.status < 500, `the portal answers (${res.status})`);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, err);
  assert.match(err, /SIGTERM: shutting down/);
  // Nothing opened a terminal: no tmux server was started for this data dir (none left behind).
  const sock = path.join(data, 'tmux.sock');
  const ls = spawnSync('tmux', ['-S', sock, 'list-sessions'], { encoding: 'utf8' });
  assert.notEqual(ls.status, 0, `a tmux server runs on ${sock}: ${ls.stdout}`);
});

test('tracelab serve on 127.0.0.1 gives no warning', async () => {
  const data = tempData();
  dirs.push(data);
  const child = spawn(process.execPath, [TRACELAB, 'serve', '--port', '0', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_TEST_CONTEXT: '' } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (err += b));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    for (let i = 0; i < 200 && !/\?token=/.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /\?token=/, `no login URL:\n${out}\n${err}`);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, err);
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
