// A lab host that stops answering, against a real sshd on loopback
// (test/hosts/sshd-fixture.ts): the sshd and everything under it are SIGSTOPped,
// so TCP connections stay open and nothing answers (a frozen VM). A check running
// then fails HOST_UNREACHABLE long before its 180 s timeout, the class dashboard
// shows the host dead over its SSE, and after SIGCONT the host comes back by
// itself. Also: a terminal over ssh ends (onExit) instead of hanging, a host whose
// listener alone freezes is caught by exec's login watchdog, and the vagrant
// backend closes its progress feed when a step after `vagrant up` fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildApp, App } from '../../portal/server/app';
import { ClassService } from '../../portal/class/service';
import { SshHost, ReattachingShell } from '../../portal/hosts/ssh';
import { VagrantHost } from '../../portal/hosts/vagrant';
import { LabHostError, Progress } from '../../portal/hosts/types';
import { FIXTURE_LABS, tempData, cleanupData, testConfig, login } from '../server/harness';
import { startSshd, sshdAvailable, Sshd, killRemoteTmux, fixtureSshHost } from '../hosts/sshd-fixture';

const skip = sshdAvailable();
const SOCKET = `tracelab-hu-${process.pid}`;
const STUDENT = 'hu-ann';
let sshd: Sshd;
let work: string;
let data: string;
let portal: App;
let base: string;
let origin: string;
let instructor: string;
let student: string;

/** sshd and every process under it (listener, per-connection sshd, the sessions' commands). */
function tree(root: number): number[] {
  const all = [root];
  for (let i = 0; i < all.length; i++) {
    const r = spawnSync('pgrep', ['-P', String(all[i])], { encoding: 'utf8' });
    for (const k of r.stdout.split(/\s+/).filter(Boolean)) all.push(Number(k));
  }
  return all;
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // gone
    }
  }
}

/** Freeze the host; returns the thaw (idempotent, also run by after()). */
let thawAll: () => void = () => undefined;
function freeze(pids = tree(sshd.pid)): () => void {
  signal(pids, 'SIGSTOP');
  let thawed = false;
  thawAll = () => {
    if (thawed) return;
    thawed = true;
    // Processes forked meanwhile cannot exist (their parents are stopped): the same set.
    signal(pids, 'SIGCONT');
  };
  return thawAll;
}

/** The instructor's live dashboard feed: every SSE event so far, and a wait for one. */
class Sse {
  /** `at`: when it arrived (Date.now()). */
  events: { type: string; data: any; at: number }[] = [];
  private ctl = new AbortController();
  private waiters: (() => void)[] = [];
  constructor(url: string, cookie: string) {
    void (async () => {
      try {
        const res = await fetch(url, { headers: { Cookie: cookie }, signal: this.ctl.signal });
        let buf = '';
        for await (const chunk of res.body as any as AsyncIterable<Uint8Array>) {
          buf += Buffer.from(chunk).toString('utf8');
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const type = /^event: (.*)$/m.exec(block)?.[1];
            const d = /^data: (.*)$/m.exec(block)?.[1];
            if (type && d) this.events.push({ type, data: JSON.parse(d), at: Date.now() });
          }
          this.waiters.forEach((w) => w());
        }
      } catch {
        // aborted at the end
      }
    })();
  }
  /** Resolves with the first event from index `from` on that passes `pred`; rejects after ms. */
  until(pred: (e: { type: string; data: any }) => boolean, what: string, from: number, ms: number): Promise<{ type: string; data: any; at: number }> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const e = this.events.slice(from).find(pred);
        if (!e) return;
        clearTimeout(t);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(e);
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`the dashboard never said ${what}; it said:\n${JSON.stringify(this.events.slice(from)).slice(-2000)}`));
      }, ms);
      this.waiters.push(check);
      check();
    });
  }
  close(): void {
    this.ctl.abort();
  }
}

const hostEvent = (state: string) => (e: { type: string; data: any }) => e.type === 'host' && e.data.user === STUDENT && e.data.state === state;

async function check(): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}api/labs/00-hello/check`, { method: 'POST', headers: { Cookie: student, Origin: origin, 'Content-Type': 'application/json' }, body: '{}' });
  return { status: res.status, body: await res.json() };
}

before(async () => {
  if (skip) return;
  sshd = await startSshd();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-hostfreeze-'));
  // The checker on the host: a stand-in that takes as long as `delay` says, so the
  // host can be frozen in the middle of a check (the fixture labs check in no time).
  fs.mkdirSync(path.join(work, 'bin'));
  fs.writeFileSync(path.join(work, 'delay'), '0');
  fs.writeFileSync(
    path.join(work, 'bin', 'tracelab'),
    `#!/bin/sh\ndate +%s > ${work}/started\nsleep "$(cat ${work}/delay)"\n` +
      `echo '{"lab":"00-hello","passed":true,"steps":[{"id":"done","passed":true,"message":"checked on the ssh host","evidence":""}]}'\n`,
    { mode: 0o755 },
  );
  data = tempData();
  // The portal trusts exactly the test server's key.
  fs.copyFileSync(sshd.knownHosts, path.join(data, 'known_hosts'));
  portal = buildApp(testConfig(data), { log: () => undefined });
  base = (await portal.listen()).url;
  origin = base.replace(/\/$/, '');
  const svc = new ClassService(testConfig(data), portal.store);
  const c = svc.create('hu', [{ id: STUDENT, name: 'Ann', email: '', line: 2 }], 'ssh', sshd.inventory);
  // The class's inventory names the host; where things live on it is this test's.
  const classBackend = portal.hosts.backendOf;
  portal.hosts.backendOf = (u) => {
    const b = classBackend(u);
    return b && { ...b, extra: { ...b.extra, workspace: path.join(work, 'ws'), labsSource: FIXTURE_LABS, stateDir: path.join(work, 'state'), tmuxSocket: SOCKET, remotePath: [path.join(work, 'bin')] } };
  };
  instructor = await login(base, c.instructor.token);
  student = await login(base, c.students[0].token);
});

after(async () => {
  if (skip) return;
  thawAll();
  await portal?.close();
  killRemoteTmux(SOCKET);
  await sshd.stop();
  cleanupData(data);
  fs.rmSync(work, { recursive: true, force: true });
});

test('a host frozen mid-check: the check fails HOST_UNREACHABLE, the dashboard shows it dead, it comes back by itself', { skip: skip ?? false, timeout: 180_000 }, async () => {
  const sse = new Sse(`${base}api/class/events`, instructor);
  try {
    // A first check starts the host (workspace copied over ssh) and passes.
    const first = await check();
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.result.passed, true);
    await sse.until(hostEvent('running'), 'the host running', 0, 30_000);

    // The next check takes a minute; freeze the host once it is running there.
    fs.writeFileSync(path.join(work, 'delay'), '60');
    fs.rmSync(path.join(work, 'started'), { force: true });
    const t0 = Date.now();
    const pending = check();
    while (!fs.existsSync(path.join(work, 'started'))) await new Promise((r) => setTimeout(r, 100));
    const mark = sse.events.length;
    const thaw = freeze();
    const tFrozen = Date.now();
    const r = await pending;
    const failedAfter = (Date.now() - tFrozen) / 1000;
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'HOST_UNREACHABLE');
    assert.match(r.body.error.message, /host unreachable/);
    // The attempt is stored: the page and the dashboard show it, not the earlier pass.
    const stored = await (await fetch(`${base}api/labs/00-hello/check`, { headers: { Cookie: student } })).json();
    assert.equal(stored.error?.code, 'HOST_UNREACHABLE', JSON.stringify(stored));
    assert.equal(portal.classMode.grid('hu').students[0].cells['00-hello'].state, 'failed', JSON.stringify(portal.classMode.grid('hu').students[0].cells));
    // poll() reports the host gone, and the dashboard shows it dead.
    const host = portal.hosts.peek(STUDENT)!;
    assert.notEqual(await host.poll(), null);
    const dead = await sse.until(hostEvent('dead'), 'the host dead', mark, 60_000);
    const deadAfter = (dead.at - tFrozen) / 1000;
    assert.match(dead.data.message, /unreachable/);
    assert.equal(portal.classMode.grid('hu').students[0].host.state, 'dead');

    // Thawed: the host is up again without anyone's help, and a check works.
    const back = sse.events.length;
    thaw();
    const tThaw = Date.now();
    const up = await sse.until(hostEvent('running'), 'the host running again', back, 60_000);
    const upAfter = (up.at - tThaw) / 1000;
    assert.equal(await host.poll(), null);
    fs.writeFileSync(path.join(work, 'delay'), '0');
    const later = await check();
    assert.equal(later.status, 200, JSON.stringify(later.body));
    assert.equal(later.body.result.passed, true);
    console.log(`# frozen ${((tFrozen - t0) / 1000).toFixed(1)} s into the check; check failed HOST_UNREACHABLE ${failedAfter.toFixed(1)} s after the freeze (check timeout 180 s); dashboard dead after ${deadAfter.toFixed(1)} s; running again ${upAfter.toFixed(1)} s after the thaw`);
  } finally {
    sse.close();
  }
});

/** A host of its own for the SshHost-level cases: short timeouts so each case is quick. */
function sshHost(over: Partial<ConstructorParameters<typeof SshHost>[0]> = {}): SshHost {
  return fixtureSshHost(sshd, work, SOCKET, { user: 'hu-term', workspace: path.join(work, 'ws2'), labsSource: FIXTURE_LABS, connectTimeoutSec: 2, serverAliveSec: 1, ...over });
}

test('a terminal over ssh on a frozen host says so and ends (onExit), instead of hanging', { skip: skip ?? false, timeout: 120_000 }, async () => {
  const h = sshHost();
  await h.start();
  const saved = [ReattachingShell.maxRetries, ReattachingShell.retryDelayMs];
  ReattachingShell.maxRetries = 2;
  ReattachingShell.retryDelayMs = 200;
  const sh = await h.openShell({ cols: 80, rows: 24 });
  let text = '';
  sh.onData((d) => (text += d.toString()));
  const exited = new Promise<{ exitCode: number }>((resolve) => sh.onExit(resolve));
  try {
    sh.write('echo "alive-$((6*7))"\r');
    for (let i = 0; i < 200 && !/alive-42/.test(text); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(text, /alive-42/);
    const thaw = freeze();
    const t = Date.now();
    const e = await Promise.race([exited, new Promise<never>((_r, rej) => setTimeout(() => rej(new Error(`no exit within 90 s; the terminal showed:\n${text.slice(-1000)}`)), 90_000))]);
    console.log(`# terminal: exit ${e.exitCode} ${((Date.now() - t) / 1000).toFixed(1)} s after the freeze (keepalive 1 s x 3, connect timeout 2 s, 2 reconnects)`);
    thaw();
    assert.equal(e.exitCode, 255);
    assert.match(text, /connection to the lab host lost; reconnecting \(1\/2\)/);
    assert.match(text, /the lab host cannot be reached/);
  } finally {
    thawAll();
    sh.kill();
    ReattachingShell.maxRetries = saved[0];
    ReattachingShell.retryDelayMs = saved[1];
    await h.stop();
  }
});

test('exec: a frozen listener (sessions still answer keepalives) is caught by the login watchdog; a command\'s own exit 255 is not a lost host', { skip: skip ?? false, timeout: 120_000 }, async () => {
  const h = sshHost({ watchdogSec: 2, serverAliveSec: 5 });
  await h.start();
  // exit 255 from the command itself: a result, not an unreachable host
  const own = await h.exec(['sh', '-c', 'echo out; echo err >&2; exit 255'], { timeoutMs: 30_000 });
  assert.equal(own.code, 255);
  assert.equal(own.stdout, 'out\n');
  assert.equal(own.stderr, 'err\n');
  // Only the listening sshd stops: this connection's keepalives are still answered,
  // but no new login gets through. ssh alone would wait out the full timeout.
  const t = Date.now();
  const run = h.exec(['sleep', '100'], { timeoutMs: 100_000 });
  await new Promise((r) => setTimeout(r, 1000));
  const thaw = freeze([sshd.pid]);
  try {
    await assert.rejects(run, (e: LabHostError) => e.code === 'HOST_UNREACHABLE' && /stopped answering new logins/.test(e.message));
    console.log(`# exec watchdog: HOST_UNREACHABLE ${((Date.now() - t) / 1000).toFixed(1)} s into a 100 s command (watchdog every 2 s, connect timeout 2 s)`);
  } finally {
    thaw();
  }
  assert.equal(await h.poll(), null);
  await h.stop();
});

test('stand-in vagrant: a failing `vagrant ssh-config` after `up` closes the progress feed with the reason', { skip: skip ?? false, timeout: 60_000 }, async () => {
  const bin = path.join(work, 'vagrant-bin');
  fs.mkdirSync(bin, { recursive: true });
  // Stand-in vagrant (no VM boots here): `up` works, `ssh-config` fails as it does for a box with no SSH yet.
  fs.writeFileSync(
    path.join(bin, 'vagrant'),
    '#!/bin/sh\ncase "$1" in\nup) echo "1700000000,lab,ui,info,==> lab: Machine booted and ready!" ;;\nssh-config) echo "The provider for this Vagrant-managed machine is reporting that it is not yet ready for SSH." >&2; exit 1 ;;\n*) exit 2 ;;\nesac\n',
    { mode: 0o755 },
  );
  const h = new VagrantHost({ user: 'hu-vag', vagrantDir: work, dataDir: path.join(work, 'vdata'), env: { PATH: `${bin}:${process.env.PATH}` } });
  const events: Progress[] = [];
  const drained = (async () => {
    for await (const p of h.progress()) events.push(p);
  })();
  await assert.rejects(h.start(), (e: LabHostError) => e.code === 'HOST_START_FAILED' && /ssh-config/.test(e.message));
  // The feed ends: a page following it is told, not left waiting.
  await Promise.race([drained, new Promise((_r, rej) => setTimeout(() => rej(new Error(`progress() never ended: ${JSON.stringify(events)}`)), 5000))]);
  assert.match(events[events.length - 1].message, /not yet ready for SSH/);
});
