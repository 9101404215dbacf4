/**
 * Class reset on the ssh backend, against a real OpenSSH server on loopback
 * (test/hosts/sshd-fixture.ts): the workspace is archived on the host while the host
 * is still up (a stopped SshHost refuses exec), then the shell is ended and a fresh
 * host started. The same path as `tracelab class reset-student` (a host object made
 * from saved state, not the portal's running one).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { openStore, Store } from '../../portal/store';
import { ClassService } from '../../portal/class/service';
import { startSshd, sshdAvailable, Sshd, killRemoteTmux } from '../hosts/sshd-fixture';
import { tempData, testConfig } from '../server/harness';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const skip = sshdAvailable();
const SOCKET = `tracelab-reset-${process.pid}`;
let sshd: Sshd;
let work: string;
let data: string;
let store: Store;
let svc: ClassService;

before(async () => {
  if (skip) return;
  sshd = await startSshd();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-reset-ssh-'));
  fs.mkdirSync(path.join(work, 'labs-src'));
  fs.cpSync(path.join(ROOT, 'labs', '01-bug-hunt'), path.join(work, 'labs-src', '01-bug-hunt'), { recursive: true });
  data = tempData();
  store = openStore(data);
  svc = new ClassService(testConfig(data), store);
  // One Host per student, both the loopback sshd (named by student id).
  const text = fs.readFileSync(sshd.inventory, 'utf8');
  const inventory = path.join(work, 'inventory');
  fs.writeFileSync(inventory, ['rs-a', 'rs-b'].map((id) => text.replace(new RegExp(`^Host ${sshd.hostAlias}$`, 'm'), `Host ${id}`)).join('\n'));
  svc.create('rs', [{ id: 'rs-a', name: 'Ann', email: '', line: 2 }, { id: 'rs-b', name: 'Bob', email: '', line: 3 }], 'ssh', inventory);
  // Keep the hosts' files in the test's temp dir (the loopback host is this machine, as root).
  const inv = svc.getClass('rs').inventory!;
  for (const id of ['rs-a', 'rs-b']) {
    Object.assign(inv[id], { knownHosts: sshd.knownHosts, workspace: path.join(work, `ws-${id}`), labsSource: path.join(work, 'labs-src'), stateDir: path.join(work, `state-${id}`), tmuxSocket: SOCKET, connectTimeoutSec: 3 });
  }
  store.db.prepare('UPDATE classes SET inventory_json = ? WHERE name = ?').run(JSON.stringify(inv), 'rs');
});

after(async () => {
  if (skip) return;
  store.close();
  killRemoteTmux(SOCKET);
  await sshd.stop();
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(data, { recursive: true, force: true });
});

const tmuxSession = (ws: string) => spawnSync('tmux', ['-L', SOCKET, 'list-panes', '-a', '-F', '#{pane_current_path}'], { encoding: 'utf8' }).stdout.split('\n').filter((p) => p.startsWith(ws));

test('reset-student on an ssh host: archived on the host, shell ended, a fresh workspace (the host state is loaded, not started here)', { skip: skip ?? false, timeout: 60_000 }, async () => {
  await svc.startHost('rs-a', () => undefined);
  const ws = path.join(work, 'ws-rs-a');
  assert.ok(fs.existsSync(path.join(ws, '01-bug-hunt', 'lab.json')));
  fs.writeFileSync(path.join(ws, 'mine.txt'), 'before');
  // A shell in the workspace, as a student's terminal leaves it.
  const running = svc.hostOf('rs-a');
  const sh = await running.openShell({ cols: 80, rows: 24 });
  for (let i = 0; i < 100 && !tmuxSession(ws).length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(tmuxSession(ws).length, 'the student has a shell in the workspace');
  sh.kill();

  const progress: string[] = [];
  const archive = await svc.reset('rs-a', 'test', (p) => progress.push(p.state));
  assert.ok(archive.startsWith(`${ws}.archive-`), archive);
  assert.equal(fs.readFileSync(path.join(archive, 'mine.txt'), 'utf8'), 'before');
  assert.equal(fs.existsSync(path.join(ws, 'mine.txt')), false, 'a fresh workspace');
  assert.ok(fs.existsSync(path.join(ws, '01-bug-hunt', 'lab.json')));
  assert.deepEqual(progress.slice(-1), ['running']);
  assert.equal(tmuxSession(ws).length, 0, "the old shell (in what is now the archive) is ended");
  const ev = store.db.prepare("SELECT kind, by_user, detail_json FROM class_events WHERE user = 'rs-a' AND kind = 'reset'").all() as any[];
  assert.equal(ev.length, 1);
  assert.equal(JSON.parse(ev[0].detail_json).archive, archive);
  // The fresh host works: exec runs in the new workspace.
  const fresh = svc.hostOf('rs-a');
  const r = await fresh.exec(['ls', ws], { timeoutMs: 10_000 });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /01-bug-hunt/);
  assert.doesNotMatch(r.stdout, /mine\.txt/);
});

test('reset of an ssh host never started (no saved state): started to reach its disk, then reset', { skip: skip ?? false, timeout: 60_000 }, async () => {
  assert.equal(store.loadHost('rs-b'), null);
  const archive = await svc.reset('rs-b', 'test');
  assert.ok(fs.existsSync(archive), archive);
  assert.ok(fs.existsSync(path.join(work, 'ws-rs-b', '01-bug-hunt', 'lab.json')));
  assert.ok(store.loadHost('rs-b'));
});
