// The portal's data directory on a full file system: an 8 MB tmpfs filled to the
// last byte. Logging in, storing a check result, a class student's first workspace
// copy and an instructor's reset each answer 507 DATA_DIR_FULL naming the data dir
// (no stack trace, no crash); reads keep working; a restart while full says the
// same; the database stays intact (integrity_check, every earlier result after a
// restart); once space is freed, every write works again. Real portal (in-process), real local-user class hosts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { buildApp, App } from '../../portal/server/app';
import { ClassService } from '../../portal/class/service';
import { testConfig, login } from '../server/harness';
import { IS_ROOT } from '../class/helpers';
import { removeUnixUser } from '../../portal/hosts/local-user';

const A = 'df-ann';
const B = 'df-bob';
const skip = IS_ROOT ? (spawnSync('mount', ['--version']).error ? 'mount is missing' : false) : 'mounting a tmpfs and the local class backend need root';
let mnt: string;
let mounted = false;
let portal: App;
let base: string;
let origin: string;
const cookie: Record<string, string> = {};
let svc: ClassService;

async function start(): Promise<void> {
  portal = buildApp(testConfig(mnt), { log: () => undefined });
  base = (await portal.listen()).url;
  origin = base.replace(/\/$/, '');
}

async function call(method: string, p: string, who: string, body?: unknown): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(base + p.replace(/^\//, ''), {
    method,
    headers: { Cookie: cookie[who], Origin: origin, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: 'manual',
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, text, json };
}

/** The answer a full data dir must give: 507, the stable code, the dir named, no stack trace. */
function assertFull(r: { status: number; text: string; json: any }, what: string): void {
  assert.equal(r.status, 507, `${what}: ${r.text.slice(0, 300)}`);
  assert.equal(r.json?.error?.code, 'DATA_DIR_FULL', what);
  assert.equal(r.json.error.message, `the portal's data directory is full: ${mnt}, free space then retry`, what);
  assert.doesNotMatch(r.text, /\bat .*\.js:\d+|SqliteError|ENOSPC/, `${what}: no stack trace or raw error`);
}

const free = () => {
  const s = fs.statfsSync(mnt);
  return s.bavail * s.bsize;
};

/** Fill the file system to the last block. */
function fill(): void {
  // Empty the WAL first, so the next database write needs new blocks (a WAL with room
  // left from earlier writes would take a few more rows before the disk shows).
  portal.store.db.pragma('wal_checkpoint(TRUNCATE)');
  const r = spawnSync('fallocate', ['-l', String(free()), path.join(mnt, 'filler')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // whatever fallocate's rounding left
  spawnSync('dd', ['if=/dev/zero', `of=${path.join(mnt, 'filler2')}`, 'bs=4096'], { stdio: 'ignore' });
  assert.equal(free(), 0);
}

before(async () => {
  if (skip) return;
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-fulldata-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', mnt], { encoding: 'utf8' });
  assert.equal(m.status, 0, `mount: ${m.stderr}`);
  mounted = true;
  await start();
  svc = new ClassService(testConfig(mnt), portal.store);
  const c = svc.create('df', [{ id: A, name: 'Ann', email: '', line: 2 }, { id: B, name: 'Bob', email: '', line: 3 }], 'local');
  cookie.self = await login(base, portal.issueLoginToken());
  cookie.A = await login(base, c.students[0].token);
  cookie.B = await login(base, c.students[1].token);
  cookie.instructor = await login(base, c.instructor.token);
});

after(async () => {
  if (skip) return;
  await portal?.close().catch(() => undefined);
  // The students' shells (the data dir's tmux server), their Unix users, then the mount.
  spawnSync('tmux', ['-S', path.join(mnt, 'tmux.sock'), 'kill-server'], { stdio: 'ignore' });
  for (const id of [A, B]) removeUnixUser(id);
  if (mounted) {
    const u = spawnSync('umount', [mnt], { encoding: 'utf8' });
    // Something still holds it open: detach it now, the kernel frees it when that goes.
    if (u.status !== 0) spawnSync('umount', ['-l', mnt], { stdio: 'ignore' });
  }
  fs.rmSync(mnt, { recursive: true, force: true });
});

test('a full data directory: every write says DATA_DIR_FULL (507), reads go on, nothing stored is lost, writes work again once freed', { skip, timeout: 180_000 }, async () => {
  // Before: stored results (a real check for the learner and for Ann, whose workspace is copied).
  const c1 = await call('POST', '/api/labs/00-hello/check', 'self', {});
  assert.equal(c1.status, 200, c1.text);
  const c2 = await call('POST', '/api/labs/00-hello/check', 'A', {});
  assert.equal(c2.status, 200, c2.text);
  portal.store.addCheck({ user: A, lab: '01-second', passed: true, exitCode: 0, result: { lab: '01-second', passed: true, steps: [{ id: 'x', passed: true, message: 'stored before the disk filled', evidence: 'e' }] }, error: null });
  const earlier = portal.store.db.prepare('SELECT id, user, lab, result_json, error_json FROM check_results ORDER BY id').all();
  assert.equal(earlier.length, 3);
  const annFile = path.join(mnt, 'workspaces', A, '00-hello', 'lab.json');
  assert.ok(fs.existsSync(annFile), "Ann's workspace copied");
  const newToken = portal.issueLoginToken();
  const joinLink = svc.cs.issueJoinToken(A);

  fill();

  // Log in: the learner's token URL and a class join link.
  const l1 = await fetch(`${base}?token=${encodeURIComponent(newToken)}`, { redirect: 'manual' });
  const l1text = await l1.text();
  assertFull({ status: l1.status, text: l1text, json: JSON.parse(l1text) }, 'login with a token');
  const l2 = await fetch(`${base}?token=${encodeURIComponent(joinLink)}`, { redirect: 'manual' });
  const l2text = await l2.text();
  assertFull({ status: l2.status, text: l2text, json: JSON.parse(l2text) }, 'login with a join link');
  // Store a check result (the check itself runs; its result cannot be stored).
  assertFull(await call('POST', '/api/labs/00-hello/check', 'self', {}), 'storing a check result');
  // A class student's first workspace copy (local-user backend: <data>/workspaces/<id>).
  assertFull(await call('POST', '/api/labs/00-hello/check', 'B', {}), "Bob's workspace copy");
  // The instructor's reset of Ann: refused, and her workspace is where it was.
  assertFull(await call('POST', `/api/class/students/${A}/reset`, 'instructor', { confirm: A }), "resetting Ann's workspace");
  assert.ok(fs.existsSync(annFile), "Ann's workspace is still in place after the refused reset");

  // The portal keeps serving what needs no writing.
  const labs = await call('GET', '/api/labs', 'self');
  assert.equal(labs.status, 200);
  const last = await call('GET', '/api/labs/00-hello/check', 'self');
  assert.equal(last.status, 200);
  assert.deepEqual([last.json.result ?? null, last.json.error ?? null], [c1.json.result ?? null, c1.json.error ?? null], 'the earlier result is served');
  const grid = await call('GET', '/api/class/grid', 'instructor');
  assert.equal(grid.status, 200);
  const bob = grid.json.students.find((s: any) => s.id === B);
  assert.equal(bob.host.state, 'dead');
  assert.match(bob.host.message, /data directory is full/);
  assert.equal(portal.store.db.pragma('integrity_check', { simple: true }), 'ok');

  // A restart while the disk is still full: it cannot open its database, and says why.
  await portal.close();
  // Closing removed the WAL and its shared-memory file, freeing their blocks: fill those too.
  spawnSync('dd', ['if=/dev/zero', `of=${path.join(mnt, 'filler3')}`, 'bs=4096'], { stdio: 'ignore' });
  assert.equal(free(), 0);
  assert.throws(() => buildApp(testConfig(mnt), { log: () => undefined }), (e: any) => e.code === 'DATA_DIR_FULL' && e.message === `the portal's data directory is full: ${mnt}, free space then retry`);

  // Space again; a restart on the same data dir finds everything stored before.
  fs.rmSync(path.join(mnt, 'filler'));
  fs.rmSync(path.join(mnt, 'filler2'), { force: true });
  fs.rmSync(path.join(mnt, 'filler3'), { force: true });
  const db = new Database(path.join(mnt, 'tracelab.db'), { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(db.prepare('SELECT id, user, lab, result_json, error_json FROM check_results ORDER BY id').all(), earlier);
  } finally {
    db.close();
  }
  await start();

  // Every write works again: log in, a stored check, Bob's workspace, Ann's reset.
  const again = await fetch(`${base}?token=${encodeURIComponent(joinLink)}`, { redirect: 'manual' });
  assert.equal(again.status, 302, 'the join link was not used up by the failed login');
  cookie.self = await login(base, portal.issueLoginToken());
  const c3 = await call('POST', '/api/labs/00-hello/check', 'self', {});
  assert.equal(c3.status, 200, c3.text);
  assert.equal((portal.store.db.prepare('SELECT COUNT(*) AS n FROM check_results').get() as { n: number }).n, 4);
  const c4 = await call('POST', '/api/labs/00-hello/check', 'B', {});
  assert.equal(c4.status, 200, c4.text);
  // The copy cut short by the full disk did not leave a half lab that looks whole.
  assert.ok(fs.existsSync(path.join(mnt, 'workspaces', B, '00-hello', 'lab.json')), "Bob's workspace copied whole");
  const reset = await call('POST', `/api/class/students/${A}/reset`, 'instructor', { confirm: A });
  assert.equal(reset.status, 200, reset.text);
  assert.ok(fs.existsSync(path.join(reset.json.archive, '00-hello', 'lab.json')), "Ann's old workspace archived");
  assert.ok(fs.existsSync(annFile), 'and a fresh one copied');
});
