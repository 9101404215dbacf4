/**
 * Class mode on one machine (local-user backend): a Check runs the tracers as root but
 * the student's app as the student's Unix user, without the data dir in sight. The app
 * here is a real lab app that, during a real check, tries to read the portal's database,
 * another student's workspace and a root-only file of the host, and to write where it
 * must not; it records what it could do, and the check must still trace it and pass.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tempData } from '../server/harness';
import { LocalUserHost, unixIds, unixName, chownTree, passwdReadCount, PASSWD_TTL_MS } from '../../portal/hosts/local-user';
import { DEFAULT_LABS_ROOT, INSTALL_ROOT } from '../../src/labs';
import { appUserFromEnv, handBack, APP_USER_ENV, APP_WORKSPACE_ENV, APP_HIDE_ENV } from '../../src/check/limits';
import { CheckEnvironmentError } from '../../src/check/types';
import { solve } from '../lab/helpers';
import { cleanupClass, IS_ROOT } from './helpers';

const has = (t: string) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;
const skip = !IS_ROOT ? 'needs root (Unix users, bwrap, tracing)' : ['bwrap', 'setpriv', 'unshare', 'bpftrace', 'tmux'].find((t) => !has(t)) ? 'needs bwrap, setpriv, unshare, bpftrace and tmux' : false;

const tag = String(process.pid % 100000);
const IDS = [`iso-a${tag}`, `iso-b${tag}`];
const data = tempData();
let hostA: LocalUserHost;
let hostB: LocalUserHost;
const scratch: string[] = [];

before(async () => {
  if (skip) return;
  hostA = new LocalUserHost({ user: IDS[0], dataDir: data, labsDir: DEFAULT_LABS_ROOT });
  hostB = new LocalUserHost({ user: IDS[1], dataDir: data, labsDir: DEFAULT_LABS_ROOT });
  await hostA.start();
  await hostB.start();
  // World-readable on purpose: only the data dir's own 0700 (and the app's namespace) protect them.
  fs.writeFileSync(path.join(data, 'tracelab.db'), 'SECRET-DB\n', { mode: 0o644 });
  fs.writeFileSync(path.join(hostB.workspace, 'secret.txt'), 'SECRET-B\n', { mode: 0o644 });
});

after(async () => {
  if (!skip) {
    await hostA.stop().catch(() => {});
    await hostB.stop().catch(() => {});
  }
  cleanupClass(data, skip ? [] : IDS);
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

/** What the app tries; it writes the outcome next to itself and then runs as usual. */
function probe(marker: string, targets: Record<string, string>): string {
  return `;(function () {
  var fs = require('fs');
  var out = { uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), status: fs.readFileSync('/proc/self/status', 'utf8').split('\\n').filter(function (l) { return /^(CapEff|CapPrm|NoNewPrivs):/.test(l); }) };
  function attempt(name, fn) { try { out[name] = 'OK ' + String(fn()).slice(0, 80); } catch (e) { out[name] = 'ERR ' + e.code; } }
  var t = ${JSON.stringify(targets)};
  attempt('db', function () { return fs.readFileSync(t.db, 'utf8'); });
  attempt('dataList', function () { return fs.readdirSync(t.data).join(','); });
  attempt('dataWrite', function () { fs.writeFileSync(t.data + '/planted', 'x'); return 'written'; });
  attempt('otherSecret', function () { return fs.readFileSync(t.otherSecret, 'utf8'); });
  attempt('otherList', function () { return fs.readdirSync(t.other).join(','); });
  attempt('otherWrite', function () { fs.writeFileSync(t.other + '/planted', 'x'); return 'written'; });
  attempt('shadow', function () { return fs.readFileSync('/etc/shadow', 'utf8'); });
  attempt('rootHome', function () { return fs.readdirSync('/root').join(','); });
  attempt('ownWorkspace', function () { return fs.readdirSync(t.own).length; });
  fs.writeFileSync(${JSON.stringify(marker)}, JSON.stringify(out));
})();
`;
}

async function check(host: LocalUserHost, lab: string): Promise<{ code: number | null; result: any; stderr: string }> {
  const r = await host.exec(['tracelab', 'check', lab, '--json', '--dir', path.join(host.workspace, lab)], { timeoutMs: 150_000 });
  let result: any = null;
  try {
    result = JSON.parse(r.stdout);
  } catch {
    // reported below with stdout and stderr
  }
  return { code: r.code, result, stderr: `${r.stdout}\n${r.stderr}` };
}

test("lab 1 in class mode: the app runs as the student, cannot reach the database, another student's workspace or root's files, and is still traced", { skip, timeout: 180_000 }, async () => {
  const lab = path.join(hostA.workspace, '01-bug-hunt');
  solve('01-bug-hunt', lab);
  const marker = path.join(lab, 'app', 'isolation.json');
  const file = path.join(lab, 'app', 'file.js');
  const src = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, probe(marker, { db: path.join(data, 'tracelab.db'), data, other: hostB.workspace, otherSecret: path.join(hostB.workspace, 'secret.txt'), own: hostA.workspace }) + src);
  // As a student's earlier run or the checker would leave it: a root-owned tmp/ the app must replace.
  fs.rmSync(path.join(lab, 'app', 'tmp'), { recursive: true, force: true });

  const r = await check(hostA, '01-bug-hunt');
  assert.ok(r.result, `tracelab check printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 1500)}`);
  assert.equal(r.result.passed, true, `the solved lab passes with the app as the student: ${JSON.stringify(r.result.steps, null, 1)}`);

  const seen = JSON.parse(fs.readFileSync(marker, 'utf8'));
  const ids = unixIds(unixName(IDS[0]))!;
  assert.equal(seen.uid, ids.uid, 'the app ran as the student');
  assert.equal(seen.gid, ids.gid);
  assert.deepEqual(seen.groups, [ids.gid], 'no supplementary groups (root\'s are cleared)');
  assert.ok(seen.status.includes('CapEff:\t0000000000000000'), `no capabilities: ${seen.status}`);
  assert.ok(seen.status.includes('NoNewPrivs:\t1'), `no-new-privs: ${seen.status}`);
  for (const k of ['db', 'dataList', 'dataWrite', 'otherSecret', 'otherList', 'otherWrite', 'shadow', 'rootHome']) {
    assert.match(seen[k], /^ERR /, `the app could ${k}: ${seen[k]}`);
  }
  assert.match(seen.ownWorkspace, /^OK \d+/, 'its own workspace is there, at its own path');
  // Nothing landed in the real data dir or the other workspace, and the marker is the student's.
  assert.equal(fs.existsSync(path.join(data, 'planted')), false);
  assert.equal(fs.existsSync(path.join(hostB.workspace, 'planted')), false);
  assert.equal(fs.statSync(marker).uid, ids.uid);
  assert.equal(fs.statSync(path.join(lab, 'app', 'tmp', 'words.save')).uid, ids.uid, 'the copy was written by the student');
  // The app's namespace (its tmpfs over the data dir) is gone with it: the db is still the db.
  assert.equal(fs.readFileSync(path.join(data, 'tracelab.db'), 'utf8'), 'SECRET-DB\n');
});

test('lab 3 in class mode: the solved lab passes with the app as the student (perf map written by the student, read by root; a cwd in the checker\'s scratch dir)', { skip, timeout: 240_000 }, async () => {
  const lab = path.join(hostA.workspace, '03-flame-graphs');
  solve('03-flame-graphs', lab);
  const r = await check(hostA, '03-flame-graphs');
  assert.ok(r.result, `tracelab check printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 1500)}`);
  assert.equal(r.result.passed, true, `lab 3 passes: ${JSON.stringify(r.result.steps, null, 1)}`);
});

test('fails closed: a check asked to run the app as a user that cannot be used exits 3 and starts nothing', { skip }, async () => {
  const base = { [APP_WORKSPACE_ENV]: hostA.workspace, [APP_HIDE_ENV]: data };
  const dir = path.join(hostA.workspace, '01-bug-hunt');
  const refused = (env: Record<string, string>, why: RegExp) => {
    assert.throws(() => appUserFromEnv(dir, env), (e: unknown) => e instanceof CheckEnvironmentError && why.test((e as Error).message));
  };
  refused({ ...base, [APP_USER_ENV]: 'tracelab-no-such-user-x' }, /no such Unix user/);
  refused({ ...base, [APP_USER_ENV]: 'root' }, /that user is root/);
  refused({ ...base, [APP_USER_ENV]: unixName(IDS[0]), [APP_WORKSPACE_ENV]: hostB.workspace }, /not inside the student's workspace/);
  refused({ ...base, [APP_USER_ENV]: unixName(IDS[0]), [APP_HIDE_ENV]: hostA.workspace }, /must be a directory above the workspace/);
  assert.equal(appUserFromEnv(dir, {}), null, 'outside class mode nothing changes');
  const ok = appUserFromEnv(dir, { ...base, [APP_USER_ENV]: unixName(IDS[0]) })!;
  assert.equal(ok.uid, unixIds(unixName(IDS[0]))!.uid);

  // The CLI as the portal runs it: exit 3, the reason, and the app never ran.
  const r = await hostA.exec(['tracelab', 'check', '01-bug-hunt', '--dir', dir], { timeoutMs: 60_000, env: { [APP_USER_ENV]: 'tracelab-no-such-user-x' } });
  // exec sets the student's own user last, so the override above must not win: the check runs as the student.
  assert.notEqual(r.code, 3, `exec's own app user is the one used: ${r.stderr}`);
  const cli = spawnSync(process.execPath, [path.join(INSTALL_ROOT, 'bin', 'tracelab'), 'check', '01-bug-hunt', '--dir', dir], {
    encoding: 'utf8',
    env: { ...process.env, ...base, [APP_USER_ENV]: 'tracelab-no-such-user-x' },
  });
  assert.equal(cli.status, 3, cli.stderr + cli.stdout);
  assert.match(cli.stderr + cli.stdout, /no such Unix user/);
});

test('handBack gives the student what root made in the lab dir, and nothing reached through a symlink or a hard link', { skip: IS_ROOT ? false : 'needs root' }, () => {
  const t = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-handback-'));
  scratch.push(t);
  const j = path.join(t, 'lab');
  const outside = path.join(t, 'outside');
  fs.mkdirSync(path.join(j, 'app', 'tmp'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(j, 'app', 'tmp', 'words.save'), 'old copy\n');
  fs.writeFileSync(path.join(outside, 'system-file'), 'root\'s\n');
  fs.writeFileSync(path.join(outside, 'linked'), 'root\'s\n');
  fs.symlinkSync(path.join(outside, 'system-file'), path.join(j, 'app', 'to-system-file'));
  fs.symlinkSync(outside, path.join(j, 'app', 'to-outside'));
  fs.linkSync(path.join(outside, 'linked'), path.join(j, 'app', 'hardlink'));
  const uid = 65534;
  const n = handBack(j, uid, uid);
  assert.equal(fs.statSync(j).uid, uid);
  assert.equal(fs.statSync(path.join(j, 'app', 'tmp')).uid, uid);
  assert.equal(fs.statSync(path.join(j, 'app', 'tmp', 'words.save')).uid, uid);
  assert.equal(n, 4, 'lab, app, tmp, words.save');
  assert.equal(fs.statSync(path.join(outside, 'system-file')).uid, 0, 'a symlinked file is not followed');
  assert.equal(fs.statSync(outside).uid, 0, 'a symlinked directory is not walked');
  assert.equal(fs.statSync(path.join(outside, 'linked')).uid, 0, 'a file with another name elsewhere is left alone');
  assert.equal(fs.lstatSync(path.join(j, 'app', 'to-outside')).uid, 0);
});

test('poll: a round over many hosts reads /etc/passwd once, asynchronously, and still sees a vanished workspace', { skip }, async () => {
  await new Promise((r) => setTimeout(r, PASSWD_TTL_MS + 50));
  const before = passwdReadCount();
  // 100 students' hosts polled in one round (two real ones, 50 times each).
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 0);
  const codes = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? hostA : hostB).poll()));
  clearInterval(ticker);
  assert.deepEqual([...new Set(codes)], [null], 'all alive');
  assert.equal(passwdReadCount() - before, 1, 'one read of /etc/passwd for the whole round');
  assert.ok(ticks > 0, 'the event loop ran while the round was polled (nothing synchronous held it)');

  const moved = hostB.workspace + '.away';
  fs.renameSync(hostB.workspace, moved);
  try {
    assert.equal(await hostB.poll(), 1, 'a workspace that vanished makes the host dead');
    assert.equal(await hostA.poll(), null);
  } finally {
    fs.renameSync(moved, hostB.workspace);
  }
  assert.equal(await hostB.poll(), null);
});

test('chownTree (every start, also re-attaching a live student) follows no symlink and changes no hard-linked file', { skip: IS_ROOT ? false : 'needs root' }, async () => {
  const t = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-chowntree-'));
  scratch.push(t);
  const ws = path.join(t, 'ws');
  const outside = path.join(t, 'outside');
  fs.mkdirSync(path.join(ws, 'lab', 'app'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(ws, 'lab', 'app', 'a.js'), '1');
  fs.writeFileSync(path.join(outside, 'f'), 'x');
  fs.writeFileSync(path.join(outside, 'linked'), 'x');
  fs.symlinkSync(outside, path.join(ws, 'node_modules'));
  fs.symlinkSync(path.join(outside, 'f'), path.join(ws, 'lab', 'f'));
  fs.linkSync(path.join(outside, 'linked'), path.join(ws, 'lab', 'hard'));
  await chownTree(ws, 65534, 65534);
  for (const p of [ws, path.join(ws, 'lab'), path.join(ws, 'lab', 'app'), path.join(ws, 'lab', 'app', 'a.js')]) assert.equal(fs.lstatSync(p).uid, 65534, p);
  for (const p of [outside, path.join(outside, 'f'), path.join(outside, 'linked')]) assert.equal(fs.lstatSync(p).uid, 0, p);
  assert.equal(fs.lstatSync(path.join(ws, 'node_modules')).uid, 0, 'the node_modules symlink stays root\'s');
});
