/**
 * The check queue (portal/server/check-queue.ts) and the checks' lower priority
 * (portal/server/check.ts): at most N checks run at once, in the order asked; one per
 * student (asking again joins it); a check that fails, throws, times out or loses its
 * process frees its slot; a queued check's timeout starts when it runs; the page can
 * see "queued, position k"; and a check really runs at nice 10, idle I/O, in a nice-10
 * autogroup. Jobs are real: processes through a LocalHost and `tracelab check`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { CheckQueue } from '../../portal/server/check-queue';
import { runCheck, CheckResponse } from '../../portal/server/check';
import { lowPriority, checkNice } from '../../portal/hosts/priority';
import { LocalHost } from '../../portal/hosts/local';
import { LabHostError, ExecResult } from '../../portal/hosts/types';
import { openStore, Store } from '../../portal/store';
import { PortalError } from '../../portal/server/errors';
import { buildApp, App } from '../../portal/server/app';
import { FIXTURE_LABS, tempData, testConfig, cleanupData, login } from './harness';

let data: string;
let store: Store;
const hosts: LocalHost[] = [];

function host(user: string): LocalHost {
  const h = new LocalHost({ user, dataDir: data, labsDir: FIXTURE_LABS });
  hosts.push(h);
  return h;
}

/** A promise the test settles by hand: a check that holds its slot until told. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

async function until(pred: () => boolean, what: string, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(() => {
  data = tempData();
  store = openStore(data);
});

after(() => {
  store.close();
  cleanupData(data);
});

test('at most `limit` checks run at once, and they start in the order they were asked for', async () => {
  const q = new CheckQueue<number>({ limit: 2 });
  const h = host('q-order');
  let now = 0;
  let most = 0;
  const started: number[] = [];
  const all = Array.from({ length: 6 }, (_, i) =>
    q.submit(`s${i}`, 'lab', async () => {
      started.push(i);
      most = Math.max(most, ++now);
      // A real process per check, like `tracelab check`.
      const r = await h.exec(['sleep', '0.2'], { timeoutMs: 10000, cwd: data });
      now--;
      return r.code ?? -1;
    }).promise,
  );
  assert.equal(q.status('s5')!.state, 'queued');
  assert.equal(q.status('s5')!.position, 4, 'four checks are waiting and s5 asked last');
  assert.deepEqual(await Promise.all(all), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
  assert.equal(most, 2, 'never more than the limit at once, and the limit was used');
  assert.equal(q.stats().peakRunning, 2);
  assert.deepEqual(q.stats(), { running: 0, queued: 0, limit: 2, peakRunning: 2 });
});

test('status says queued with its position, then running; null when done', async () => {
  const q = new CheckQueue<string>({ limit: 1 });
  const g = gate();
  const a = q.submit('ann', 'lab-a', async () => (await g.wait, 'a')).promise;
  const b = q.submit('bob', 'lab-b', async () => 'b').promise;
  const c = q.submit('cy', 'lab-c', async () => 'c').promise;
  assert.deepEqual(
    [q.status('ann')!.state, q.status('bob')!.state, q.status('cy')!.state],
    ['running', 'queued', 'queued'],
  );
  assert.equal(q.status('ann')!.position, 0);
  assert.equal(q.status('bob')!.position, 1);
  assert.equal(q.status('cy')!.position, 2);
  assert.equal(q.status('cy')!.queued, 2);
  assert.equal(q.status('bob')!.startedAt, null);
  g.open();
  assert.deepEqual(await Promise.all([a, b, c]), ['a', 'b', 'c']);
  assert.equal(q.status('ann'), null);
  assert.equal(q.status('cy'), null);
});

test('one check per student: the same lab again joins it, another lab is CHECK_BUSY', async () => {
  const q = new CheckQueue<number>({ limit: 2 });
  const g = gate();
  let runs = 0;
  const first = q.submit('ann', '01-bug-hunt', async () => (await g.wait, ++runs));
  assert.equal(first.joined, false);
  const again = q.submit('ann', '01-bug-hunt', async () => ++runs);
  assert.equal(again.joined, true);
  assert.equal(again.promise, first.promise);
  assert.throws(
    () => q.submit('ann', '02-restify', async () => ++runs),
    (e: unknown) => e instanceof PortalError && e.code === 'CHECK_BUSY' && /01-bug-hunt/.test(e.message) && e.status === 409,
  );
  g.open();
  assert.equal(await first.promise, 1);
  assert.equal(await again.promise, 1);
  assert.equal(runs, 1, 'the job ran once for both clicks');
  // Done: the next click is a new check.
  assert.equal(q.submit('ann', '02-restify', async () => ++runs).joined, false);
});

test('a check that fails, throws or times out frees its slot; the next one runs', async () => {
  const q = new CheckQueue<ExecResult>({ limit: 1 });
  const h = host('q-fail');
  const failing = q.submit('a', 'lab', () => h.exec(['sh', '-c', 'echo broken >&2; exit 7'], { timeoutMs: 10000, cwd: data })).promise;
  const throwing = q.submit('b', 'lab', () => {
    throw new Error('a bug in a job');
  }).promise;
  const rejecting = q.submit('c', 'lab', async () => {
    throw new Error('async failure');
  }).promise;
  const timedOut = q.submit('d', 'lab', () => h.exec(['sleep', '30'], { timeoutMs: 300, cwd: data })).promise;
  const fine = q.submit('e', 'lab', () => h.exec(['true'], { timeoutMs: 10000, cwd: data })).promise;
  assert.equal((await failing).code, 7);
  await assert.rejects(throwing, /a bug in a job/);
  await assert.rejects(rejecting, /async failure/);
  assert.equal((await timedOut).timedOut, true);
  assert.equal((await fine).code, 0);
  assert.deepEqual(q.stats(), { running: 0, queued: 0, limit: 1, peakRunning: 1 });
});

test("the queue survives a check whose host dies: its process killed, or the host unreachable", async () => {
  const q = new CheckQueue<ExecResult>({ limit: 1 });
  const h = host('q-dies');
  const marker = `${process.pid}${Date.now() % 100000}`;
  // The check's process is SIGKILLed from outside (the host went down under it).
  const killed = q.submit('a', 'lab', () => h.exec(['sleep', `${marker}`], { timeoutMs: 60000, cwd: data })).promise;
  // The host cannot be reached at all: exec rejects, as the ssh backend's does.
  const unreachable = q.submit('b', 'lab', async () => {
    throw new LabHostError('HOST_UNREACHABLE', 'the lab host does not answer');
  }).promise;
  const after = q.submit('c', 'lab', () => h.exec(['echo', 'still here'], { timeoutMs: 10000, cwd: data })).promise;
  let pid = 0;
  await until(() => {
    for (const d of fs.readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(d)) continue;
      try {
        if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8') === `sleep\0${marker}\0`) pid = Number(d);
      } catch {
        // gone
      }
    }
    return pid > 0;
  }, 'the check process');
  process.kill(pid, 'SIGKILL');
  assert.equal((await killed).signal, 'SIGKILL');
  await assert.rejects(unreachable, (e: unknown) => e instanceof LabHostError && e.code === 'HOST_UNREACHABLE');
  assert.equal((await after).stdout, 'still here\n');
  assert.equal(q.stats().running, 0);
});

test("a queued check's timeout starts when it runs, not when it was queued", async () => {
  const q = new CheckQueue<CheckResponse>({ limit: 1 });
  const h = host('q-timeout');
  await h.start();
  const g = gate();
  const hold = q.submit('holder', 'lab', async () => {
    await g.wait;
    return { ok: true, lab: 'lab', exitCode: 0, checkedAt: Date.now() };
  }).promise;
  // 3 s to run `tracelab check` (the fixture lab answers in 0.2 s; at normal priority
  // so a busy machine does not stretch it), queued behind a check that holds the only
  // slot for 4 s: counted from the queueing it would time out.
  const queuedAt = Date.now();
  const r = q.submit('q-timeout', '00-hello', () => runCheck(h, store, 'q-timeout', '00-hello', { timeoutMs: 3000, lowPriority: false })).promise;
  setTimeout(g.open, 4000);
  await hold;
  const resp = await r;
  assert.ok(Date.now() - queuedAt >= 4000);
  assert.notEqual(resp.error?.code, 'CHECK_TIMEOUT', JSON.stringify(resp.error));
  // The fixture lab has no checker: `tracelab check` says so (exit 3), and it was stored.
  assert.equal(resp.error?.code, 'CHECK_ENVIRONMENT');
  assert.equal(store.lastCheck('q-timeout', '00-hello')!.exitCode, 3);
});

test('a check runs at nice 10, in the idle I/O class and a nice-10 autogroup (ExecOptions.lowPriority on the local host)', async () => {
  const h = host('q-nice');
  const r = await h.exec(['sh', '-c', 'echo "nice $(nice)"; ionice; cat /proc/self/autogroup 2>/dev/null || echo "no autogroup"'], { timeoutMs: 10000, cwd: data, lowPriority: true });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^nice 10$/m);
  assert.match(r.stdout, /^idle$/m);
  if (!/no autogroup/.test(r.stdout)) assert.match(r.stdout, /autogroup-[0-9]+ nice 10$/m);
});

test('through the portal: queued position for the page, a second click joins, another lab is 409, one row stored', async (t) => {
  const d = tempData();
  const portal: App = buildApp(testConfig(d, { checkConcurrency: 1 }), { log: () => undefined });
  t.after(async () => {
    await portal.close();
    cleanupData(d);
  });
  const { url } = await portal.listen();
  const base = url.replace(/\/$/, '');
  const origin = new URL(url).origin;
  const cookie = await login(url, portal.issueLoginToken('ann'));
  const post = (lab: string) =>
    fetch(`${base}/api/labs/${lab}/check`, { method: 'POST', headers: { cookie, Origin: origin, 'Content-Type': 'application/json' }, body: '{}' });
  const status = async () => (await fetch(`${base}/api/labs/00-hello/check/status`, { headers: { cookie } })).json();
  assert.equal(await status(), null);
  assert.equal(portal.checks.limit, 1);
  // Another student's check holds the only slot.
  const g = gate();
  const hold = portal.checks.submit('someone-else', '00-hello', async () => {
    await g.wait;
    return { ok: true, lab: '00-hello', exitCode: 0, checkedAt: Date.now() };
  }).promise;
  const first = post('00-hello');
  let s: any = null;
  const end = Date.now() + 20000;
  while (!(s = await status()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.equal(s.state, 'queued');
  assert.equal(s.position, 1);
  assert.equal(s.lab, '00-hello');
  const second = post('00-hello');
  const other = await post('01-second');
  assert.equal(other.status, 409);
  assert.equal((await other.json()).error.code, 'CHECK_BUSY');
  // The other lab's status is not this check's.
  assert.equal(await (await fetch(`${base}/api/labs/01-second/check/status`, { headers: { cookie } })).json(), null);
  g.open();
  await hold;
  const [a, b] = await Promise.all([first, second]);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  const [ja, jb] = [await a.json(), await b.json()];
  assert.deepEqual(ja, jb, 'both clicks got the one check');
  assert.equal(ja.error.code, 'CHECK_ENVIRONMENT');
  const rows = portal.store.db.prepare("SELECT COUNT(*) AS n FROM check_results WHERE user = 'ann'").get() as { n: number };
  assert.equal(rows.n, 1, 'two clicks, one check, one stored result');
  assert.equal(await status(), null);
  assert.equal(portal.checks.stats().peakRunning, 1);
});

test('check concurrency is configurable (env, flag) and must be a positive integer', async () => {
  const { loadConfig, ConfigError } = await import('../../src/config');
  const env = { TRACELAB_DATA: data, TRACELAB_CHECK_CONCURRENCY: '3' };
  assert.equal(loadConfig({ env }).checkConcurrency, 3);
  assert.equal(loadConfig({ env, argv: ['--check-concurrency', '1'] }).checkConcurrency, 1);
  assert.equal(loadConfig({ env: { TRACELAB_DATA: data } }).checkConcurrency, undefined, 'unset: the queue uses the cores');
  for (const bad of ['0', '-1', 'two', '1.5']) {
    assert.throws(() => loadConfig({ env: { TRACELAB_DATA: data, TRACELAB_CHECK_CONCURRENCY: bad } }), (e: unknown) => e instanceof ConfigError && /check concurrency/.test(e.message));
  }
  assert.equal(new CheckQueue({}).limit, (await import('os')).cpus().length || 1);
});

test('TRACELAB_CHECK_NICE sets the checks\' nice (0..19); anything else keeps 10', async () => {
  assert.equal(checkNice({}), 10);
  assert.equal(checkNice({ TRACELAB_CHECK_NICE: '0' }), 0);
  assert.equal(checkNice({ TRACELAB_CHECK_NICE: '19' }), 19);
  for (const bad of ['20', '-5', 'x', '', '1;rm -rf /']) assert.equal(checkNice({ TRACELAB_CHECK_NICE: bad }), 10, bad);
  const h = host('q-nice0');
  const r = await h.exec(lowPriority(['sh', '-c', 'echo "nice $(nice)"'], 3), { timeoutMs: 10000, cwd: data });
  assert.match(r.stdout, /^nice 3$/m);
});

test('runCheck asks its host for low priority unless told not to; a remote host is asked the same and may ignore it', async () => {
  const seen: (boolean | undefined)[] = [];
  const recording = {
    kind: 'ssh',
    workspace: '/home/student/labs',
    exec: async (_argv: string[], o: { lowPriority?: boolean }): Promise<ExecResult> => {
      seen.push(o.lowPriority);
      return { code: 3, stdout: '', stderr: 'no checker' };
    },
  } as unknown as Parameters<typeof runCheck>[0];
  await runCheck(recording, store, 'q-prio', '00-hello');
  await runCheck(recording, store, 'q-prio', '00-hello', { lowPriority: false });
  assert.deepEqual(seen, [true, false]);
});
