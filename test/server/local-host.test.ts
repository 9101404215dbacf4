/**
 * The local LabHost on its own: workspace copy, tmux session, exec with timeouts,
 * and the missing-tmux error.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { LocalHost } from '../../portal/hosts/local';
import { createHost, HOST_BACKENDS } from '../../portal/hosts';
import { LabHostError } from '../../portal/hosts/types';
import { tempData, cleanupData, FIXTURE_LABS } from './harness';

const dirs: string[] = [];
after(() => dirs.forEach(cleanupData));

function host(labsDir = FIXTURE_LABS): LocalHost {
  const d = tempData();
  dirs.push(d);
  return new LocalHost({ user: 'self', dataDir: d, labsDir });
}

test('start() copies the labs into the workspace once, keeps edits, and links node_modules', async () => {
  const labs = tempData();
  dirs.push(labs);
  fs.cpSync(FIXTURE_LABS, labs, { recursive: true });
  fs.mkdirSync(path.join(labs, 'node_modules', 'dep'), { recursive: true });
  fs.mkdirSync(path.join(labs, '00-hello', 'node_modules', 'inner'), { recursive: true });
  const h = host(labs);
  await h.start();
  assert.ok(fs.existsSync(path.join(h.workspace, '00-hello', 'lab.json')));
  assert.equal(fs.existsSync(path.join(h.workspace, '00-hello', 'node_modules')), false, 'nested node_modules not copied');
  assert.equal(fs.readlinkSync(path.join(h.workspace, 'node_modules')), path.join(labs, 'node_modules'));
  // A student's edit survives the next start; a lab added later is copied in.
  fs.writeFileSync(path.join(h.workspace, '00-hello', 'steps', '03-done.md'), 'edited');
  fs.cpSync(path.join(labs, '01-second'), path.join(labs, '02-third'), { recursive: true });
  await h.start();
  assert.equal(fs.readFileSync(path.join(h.workspace, '00-hello', 'steps', '03-done.md'), 'utf8'), 'edited');
  assert.ok(fs.existsSync(path.join(h.workspace, '02-third', 'lab.json')));
  assert.equal(await h.poll(), null);
  assert.deepEqual(Object.keys(h.getState()).sort(), ['session', 'workspace']);
});

test('exec: tracelab means this installation; timeouts kill the whole process group', async () => {
  const h = host();
  await h.start();
  const v = await h.exec(['tracelab', '--version'], { timeoutMs: 20000 });
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^[0-9]+\.[0-9]+\.[0-9]+/);
  const pwd = await h.exec(['sh', '-c', 'pwd; echo $TRACELAB_WORKSPACE'], { timeoutMs: 5000 });
  assert.equal(pwd.stdout, `${h.workspace}\n${h.workspace}\n`);
  const marker = path.join(h.workspace, 'grandchild-alive');
  const t = await h.exec(['sh', '-c', `(sleep 2; touch ${marker}) & sleep 30`], { timeoutMs: 500 });
  assert.equal(t.timedOut, true);
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(fs.existsSync(marker), false, 'the background child was killed with the group');
  const big = await h.exec(['sh', '-c', 'head -c 300000 /dev/zero'], { timeoutMs: 5000, maxOutputBytes: 1000 });
  assert.match(big.stdout, /stdout cut at 1000 bytes/);
  const missing = await h.exec(['/nonexistent/cmd'], { timeoutMs: 5000 });
  assert.equal(missing.code, 127);
});

test('a missing tmux is a clear HOST_MISSING_TOOL error naming the fix', async () => {
  const h = host();
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await assert.rejects(h.start(), (e: unknown) => e instanceof LabHostError && e.code === 'HOST_MISSING_TOOL' && /apt-get install tmux/.test(e.message));
  } finally {
    process.env.PATH = saved;
  }
});

test('the backend registry knows local and names the known ones for a typo', () => {
  assert.ok(HOST_BACKENDS.local);
  const d = tempData();
  dirs.push(d);
  assert.equal(createHost('local', { user: 'self', dataDir: d, labsDir: FIXTURE_LABS }).kind, 'local');
  assert.throws(() => createHost('lcoal', { user: 'self', dataDir: d, labsDir: FIXTURE_LABS }), /unknown host backend 'lcoal' \(known: .*local/);
  assert.throws(() => new LocalHost({ user: '../x', dataDir: d, labsDir: FIXTURE_LABS }), /bad user id/);
});
