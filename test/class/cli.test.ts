/**
 * `tracelab class` as a user runs it: help, clear errors (a bad roster names its
 * line and column), create with provisioning progress, list/show/link/remove,
 * and the ssh/vagrant host assignment from an inventory.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO, FIXTURE_LABS, tempData, testConfig } from '../server/harness';
import { openStore } from '../../portal/store';
import { ClassService } from '../../portal/class/service';
import { unixIds, unixName } from '../../portal/hosts/local-user';
import { cleanupClass, IS_ROOT } from './helpers';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-classcli-'));
const data = tempData();
const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(REPO, 'bin', 'tracelab'), 'class', ...args], { encoding: 'utf8', cwd: tmp, env: { ...process.env, NODE_TEST_CONTEXT: '' } });
const IDS = ['cli-a', 'cli-b'];

after(() => {
  cleanupClass(data, IDS);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('--help lists the commands; no command and unknown ones are usage errors', () => {
  const h = cli('--help');
  assert.equal(h.status, 0);
  for (const c of ['create', 'list', 'show', 'reset-student', 'link', 'remove']) assert.match(h.stdout, new RegExp(`\\n  ${c}`));
  assert.equal(cli('--data', data).status, 2);
  const u = cli('frobnicate', '--data', data);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /unknown command 'frobnicate'/);
  assert.match(cli('list', '--bogus').stderr, /unknown option '--bogus'/);
});

test('create: a bad roster is refused with file:line:column, and nothing is created', () => {
  fs.writeFileSync(path.join(tmp, 'bad.csv'), 'name,email\nAda,ada@x\nBob,ada@x\n');
  const r = cli('create', 'c1', '--roster', 'bad.csv', '--backend', 'local', '--data', data, '--labs', FIXTURE_LABS);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad\.csv:3:5: email ada@x is already on line 2/);
  assert.match(cli('list', '--data', data).stdout, /no classes/);
});

test('create: missing roster, unknown backend, ssh without inventory, bad name', () => {
  fs.writeFileSync(path.join(tmp, 'ok.csv'), 'id,name\ncli-a,Ada\ncli-b,Bob\n');
  const base = ['--data', data, '--labs', FIXTURE_LABS];
  assert.match(cli('create', 'c1', '--backend', 'local', ...base).stderr, /needs --roster FILE/);
  assert.match(cli('create', 'c1', '--roster', 'nope.csv', '--backend', 'local', ...base).stderr, /roster nope\.csv does not exist/);
  assert.match(cli('create', 'c1', '--roster', 'ok.csv', '--backend', 'cloud', ...base).stderr, /unknown backend 'cloud' \(choose: local, ssh, vagrant\)/);
  assert.match(cli('create', 'c1', '--roster', 'ok.csv', '--backend', 'ssh', ...base).stderr, /needs --inventory FILE/);
  assert.match(cli('create', 'Bad_Name', '--roster', 'ok.csv', '--backend', 'local', ...base).stderr, /class name 'Bad_Name' must be/);
});

test('ssh and vagrant: inventory Hosts go to students by id, else in roster order', () => {
  const d = tempData();
  try {
    const inv = path.join(tmp, 'inventory');
    fs.writeFileSync(inv, 'Host *\n  User lab\nHost vm1\n  HostName 10.0.0.1\nHost bob\n  HostName 10.0.0.2\n');
    const store = openStore(d);
    const svc = new ClassService(testConfig(d), store);
    svc.create('s1', [{ id: 'ann', name: 'Ann', email: '', line: 2 }, { id: 'bob', name: 'Bob', email: '', line: 3 }], 'ssh', inv);
    assert.deepEqual(svc.backendOf('ann'), { kind: 'ssh', extra: { host: 'vm1', inventory: inv } });
    assert.deepEqual(svc.backendOf('bob'), { kind: 'ssh', extra: { host: 'bob', inventory: inv } });
    assert.equal(svc.backendOf('s1-instructor'), null, 'the instructor uses the portal’s own backend');
    assert.throws(() => svc.create('s2', [{ id: 'c', name: 'C', email: '', line: 2 }, { id: 'd', name: 'D', email: '', line: 3 }, { id: 'e', name: 'E', email: '', line: 4 }], 'ssh', inv), /2 Host entries for 3 students/);
    assert.throws(() => svc.create('s3', [{ id: 'ann', name: 'Ann', email: '', line: 2 }], 'vagrant'), /id 'ann' is already used in class s1/);
    svc.create('v1', [{ id: 'v-a', name: 'A', email: '', line: 2 }, { id: 'v-b', name: 'B', email: '', line: 3 }], 'vagrant');
    assert.deepEqual(svc.backendOf('v-b'), { kind: 'vagrant', extra: { machine: 'student-02' } });
    store.close();
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test("create: a roster id equal to the class's instructor id is STUDENT_TAKEN, not a raw SQLite error, and nothing is created", () => {
  fs.writeFileSync(path.join(tmp, 'instr.csv'), 'id,name\ncli-x,Ada\nc7-instructor,Mallory\n');
  const r = cli('create', 'c7', '--roster', 'instr.csv', '--backend', 'vagrant', '--data', data, '--labs', FIXTURE_LABS);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /id 'c7-instructor' \(roster line 3\) is the instructor's id in class c7: give the student another id/);
  assert.doesNotMatch(r.stderr, /UNIQUE|SQLITE|at /);
  assert.match(cli('list', '--data', data).stdout, /no classes/);
  const d = tempData();
  try {
    const store = openStore(d);
    const svc = new ClassService(testConfig(d), store);
    assert.throws(() => svc.create('c8', [{ id: 'c8-instructor', name: 'M', email: '', line: 2 }], 'vagrant'), (e: any) => e.code === 'STUDENT_TAKEN' && /instructor's id/.test(e.message));
    assert.equal(svc.cs.getClass('c8'), null);
    assert.equal(svc.cs.user('c8-instructor'), null);
    store.close();
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('create → list → show → link → remove, with a Unix user per student', { skip: IS_ROOT ? false : 'needs root' }, () => {
  const c = cli('create', 'cls', '--roster', 'ok.csv', '--backend', 'local', '--url', 'http://lab.example.org:9000/x', '--data', data, '--labs', FIXTURE_LABS);
  assert.equal(c.status, 0, c.stderr);
  // Not a terminal here: one line per host state change instead of a bar.
  assert.match(c.stderr, /cli-a: starting\n[\s\S]*cli-a: running/);
  assert.match(c.stdout, /http:\/\/lab\.example\.org:9000\/\?token=/);
  const links = fs.readFileSync(path.join(tmp, 'cls-links.csv'), 'utf8').trim().split('\n');
  assert.equal(links[0], 'id,name,email,role,link');
  assert.equal(links.length, 4);
  assert.match(links[2], /^cli-a,Ada,,student,http:\/\/lab\.example\.org:9000\/\?token=[A-Za-z0-9_-]{32}$/);
  for (const id of IDS) {
    const ids = unixIds(unixName(id));
    assert.ok(ids, `Unix user ${unixName(id)} exists`);
    const st = fs.statSync(path.join(data, 'workspaces', id));
    assert.equal(st.uid, ids!.uid);
    assert.equal(st.mode & 0o777, 0o700);
  }
  assert.match(cli('create', 'cls', '--roster', 'ok.csv', '--backend', 'local', '--data', data, '--labs', FIXTURE_LABS).stderr, /class cls already exists/);
  assert.match(cli('list', '--data', data).stdout, /cls\s+2\s+local/);
  const show = cli('show', 'cls', '--data', data, '--labs', FIXTURE_LABS);
  assert.match(show.stdout, /cli-a\s+provisioned\s+not started/);
  assert.match(cli('link', 'cls', 'cli-a', '--data', data, '--port', '9100').stdout, /^http:\/\/127\.0\.0\.1:9100\/\?token=/);
  assert.match(cli('link', 'cls', 'nobody', '--data', data).stderr, /no user 'nobody' in class cls/);
  assert.match(cli('reset-student', 'cls', 'cli-a', '--data', data).stderr, /add --yes/);
  assert.match(cli('remove', 'cls', '--data', data).stderr, /add --yes/);
  const rm = cli('remove', 'cls', '--yes', '--data', data, '--labs', FIXTURE_LABS);
  assert.equal(rm.status, 0, rm.stderr);
  for (const id of IDS) assert.equal(unixIds(unixName(id)), null, `${unixName(id)} removed`);
  assert.match(cli('show', 'cls', '--data', data).stderr, /no class 'cls'/);
});
