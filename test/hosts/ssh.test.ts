// The ssh LabHost against a real OpenSSH server on loopback (test/hosts/sshd-fixture.ts):
// start, exec with hostile argv, timeouts that kill the remote tree, a real
// `tracelab check` run remotely, a terminal that survives a dropped connection,
// host-key checking that cannot be switched off by the inventory, dead hosts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { SshHost, ReattachingShell, inventoryHosts, hostForUser, shq, createSshHost } from '../../portal/hosts/ssh';
import { LabHostError, ShellStream } from '../../portal/hosts/types';
import { startSshd, sshdAvailable, freePort, Sshd, killRemoteTmux, fixtureSshHost } from './sshd-fixture';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const skip = sshdAvailable();
let sshd: Sshd;
let work: string;
const SOCKET = `tracelab-test-${process.pid}`;

function host(over: Partial<ConstructorParameters<typeof SshHost>[0]> = {}): SshHost {
  return fixtureSshHost(sshd, work, SOCKET, over);
}

/** Resolves with everything the shell printed once `re` matches it (or rejects after 20 s, so a broken test cannot hang). */
function waitFor(sh: ShellStream, seen: { text: string }, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      sub.dispose();
      reject(new Error(`terminal never showed ${re}; it showed:\n${seen.text.slice(-2000)}`));
    }, 20_000);
    const check = () => {
      if (re.test(seen.text)) {
        clearTimeout(t);
        sub.dispose();
        resolve(seen.text);
      }
    };
    const sub = sh.onData(() => setImmediate(check));
    check();
  });
}

function record(sh: ShellStream): { text: string } {
  const seen = { text: '' };
  sh.onData((d) => (seen.text += d.toString()));
  return seen;
}

before(async () => {
  if (skip) return;
  sshd = await startSshd();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-sshhost-'));
  // What start() copies into a new workspace (one lab keeps the copy small).
  fs.mkdirSync(path.join(work, 'labs-src'));
  fs.cpSync(path.join(ROOT, 'labs', '01-bug-hunt'), path.join(work, 'labs-src', '01-bug-hunt'), { recursive: true });
  // `tracelab` on the remote PATH, as on a lab host.
  fs.mkdirSync(path.join(work, 'bin'));
  fs.writeFileSync(path.join(work, 'bin', 'tracelab'), `#!/bin/sh\nexec ${shq(process.execPath)} ${shq(path.join(ROOT, 'bin', 'tracelab'))} "$@"\n`, { mode: 0o755 });
});

after(async () => {
  if (skip) return;
  killRemoteTmux(SOCKET);
  await sshd.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('start() over ssh: workspace copied and resolved to an absolute path, progress reaches 100, poll() says up', { skip: skip ?? false }, async () => {
  const h = host();
  await h.start();
  assert.equal(h.workspace, path.join(work, 'ws'));
  // learnt from the host's uname (SunOS would make it illumos)
  assert.equal(h.track, 'linux');
  assert.ok(fs.existsSync(path.join(work, 'ws', '01-bug-hunt', 'lab.json')), 'labs copied into the workspace');
  assert.ok(fs.existsSync(path.join(work, 'state', 'tmux.conf')));
  const events = [];
  for await (const p of h.progress()) events.push(p);
  assert.equal(events[events.length - 1].percent, 100);
  assert.equal(await h.poll(), null);
  // state is names only: no key, no inventory or known_hosts path reaches a browser
  const state = JSON.stringify(h.getState());
  assert.doesNotMatch(state, /client_key|PRIVATE|inventory|known_hosts/);
});

test('no labsSource (as `tracelab serve --host-backend ssh --inventory` gives): the workspace is copied from the labs installed on the host', { skip: skip ?? false }, async () => {
  // The serve path: the factory, an inventory in `vagrant ssh-config`'s shape
  // (one Host "default", no extras naming a labs source). The host has no
  // workspace yet, and tracelab's labs where the box installs them; here that
  // path is under the test's temp dir (this machine's /opt is not the test's).
  const installed = path.join(work, 'opt-tracelab', 'labs');
  fs.mkdirSync(installed, { recursive: true });
  fs.cpSync(path.join(ROOT, 'labs', '01-bug-hunt'), path.join(installed, '01-bug-hunt'), { recursive: true });
  const old = SshHost.installedLabs;
  assert.deepEqual(old, ['/opt/tracelab/labs'], 'the default is where vm/scripts/50-tracelab.sh installs the labs');
  const install = fs.readFileSync(path.join(ROOT, 'vm', 'scripts', '50-tracelab.sh'), 'utf8');
  assert.match(install, /^dest=\/opt\/tracelab$/m);
  assert.match(install, /^for part in [^\n]*\blabs\b[^\n]*; do\n\s+cp -R "\$TRACELAB_SRC\/\$part" "\$dest\/"/m);
  SshHost.installedLabs = [path.join(work, 'no-such-install', 'labs'), installed];
  try {
    const extra = { inventory: sshd.inventory, knownHosts: sshd.knownHosts, workspace: path.join(work, 'ws-installed'), stateDir: path.join(work, 'state'), tmuxSocket: SOCKET };
    const h = createSshHost({ user: 'grace', dataDir: path.join(work, 'data'), extra });
    assert.equal(h.host, 'default');
    const events: string[] = [];
    const drained = (async () => {
      for await (const p of h.progress()) events.push(p.message);
    })();
    await h.start();
    await drained;
    assert.equal(h.workspace, path.join(work, 'ws-installed'));
    assert.ok(fs.existsSync(path.join(work, 'ws-installed', '01-bug-hunt', 'lab.json')), 'labs copied from the installed copy');
    assert.ok(events.some((m) => m === `workspace copied from ${installed}`), JSON.stringify(events));
    // a second start keeps the student's workspace (no copy over it)
    fs.writeFileSync(path.join(work, 'ws-installed', 'mine.txt'), 'x');
    await h.start();
    assert.ok(fs.existsSync(path.join(work, 'ws-installed', 'mine.txt')));

    // Nothing installed either: the error says what a generic ssh host needs.
    SshHost.installedLabs = [path.join(work, 'no-such-install', 'labs')];
    const bare = createSshHost({ user: 'grace', dataDir: path.join(work, 'data'), extra: { ...extra, workspace: path.join(work, 'ws-none') } });
    await assert.rejects(bare.start(), (e: LabHostError) => {
      assert.equal(e.code, 'HOST_START_FAILED');
      assert.match(e.message, /no workspace .*ws-none on default and nothing to copy it from/);
      assert.match(e.message, /~\/labs/);
      assert.match(e.message, /no-such-install\/labs/);
      assert.match(e.message, /tracelab on its PATH/);
      return true;
    });
  } finally {
    SshHost.installedLabs = old;
  }
});

test('exec passes argv through the remote shell unchanged, keeps exit codes, stderr, env and cwd', { skip: skip ?? false }, async () => {
  const h = host();
  await h.start();
  const hostile = ['a b', "it's", '$HOME', '`id`', '$(touch /tmp/tl-pwned)', ';', '"', '\\', '*', ''];
  const r = await h.exec(['printf', '[%s]\\n', ...hostile], { timeoutMs: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, hostile.map((s) => `[${s}]\n`).join(''));
  assert.ok(!fs.existsSync('/tmp/tl-pwned'));
  const e = await h.exec(['bash', '-c', 'echo out; echo err >&2; echo "$TL_X $PWD $TRACELAB_WORKSPACE"; exit 7'], { timeoutMs: 20_000, env: { TL_X: 'x y' }, cwd: work });
  assert.equal(e.code, 7);
  assert.equal(e.stderr, 'err\n');
  assert.equal(e.stdout, `out\nx y ${work} ${h.workspace}\n`);
});

test('exec timeout resolves timedOut and kills the command tree on the host', { skip: skip ?? false }, async () => {
  const h = host();
  await h.start();
  const pidFile = path.join(work, 'sleeper.pid');
  const r = await h.exec(['bash', '-c', `sleep 300 & echo $! > ${shq(pidFile)}; wait`], { timeoutMs: 6_000 });
  assert.equal(r.timedOut, true);
  // (6 s is ample for ssh to connect and start it; if not, say so rather than ENOENT)
  assert.ok(fs.existsSync(pidFile), 'the remote command had not started when the timeout fired');
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  let alive = true;
  for (let i = 0; i < 100 && alive; i++) {
    try {
      process.kill(pid, 0);
      await new Promise((res) => setTimeout(res, 100));
    } catch {
      alive = false;
    }
  }
  assert.equal(alive, false, `remote sleep ${pid} outlived the exec timeout`);
});

test('a lab check runs remotely (`tracelab check` on the host) and its JSON comes back', { skip: skip ?? false }, async () => {
  const h = host();
  await h.start();
  const r = await h.exec(['tracelab', 'check', '01-bug-hunt', '--json'], { timeoutMs: 90_000 });
  const result = JSON.parse(r.stdout);
  assert.equal(result.lab, '01-bug-hunt');
  // the workspace holds the buggy app: the checker must say it fails
  assert.equal(result.passed, false, r.stdout.slice(0, 500));
  assert.equal(r.code, 1);
});

test('the terminal is a tmux session that survives a dropped connection and a closed client', { skip: skip ?? false }, async () => {
  const h = host();
  await h.start();
  const old = ReattachingShell.retryDelayMs;
  ReattachingShell.retryDelayMs = 200;
  try {
    const sh = (await h.openShell({ cols: 100, rows: 30 })) as ReattachingShell;
    const seen = record(sh);
    sh.write('export TLSECRET=s3cr3t; echo TLMARK$((6*7))\r');
    await waitFor(sh, seen, /TLMARK42/);
    assert.ok(sshd.dropConnections() > 0, 'no ssh connection to drop');
    await waitFor(sh, seen, /reconnecting/);
    // after the re-attach the same shell answers: its variable is still set
    const until = Date.now() + 20_000;
    // (match the value, not the echoed command line)
    while (!/SECRET-IS-s3cr3t/.test(seen.text) && Date.now() < until) {
      sh.write('echo SECRET-IS-$TLSECRET\r');
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.match(seen.text, /SECRET-IS-s3cr3t/);
    assert.ok(sh.reattached >= 1);
    const exited = new Promise((r) => sh.onExit(r));
    sh.kill();
    await exited;
    // closing the client never kills the session
    const has = spawnSync('tmux', ['-L', SOCKET, 'has-session', '-t', h.session]);
    assert.equal(has.status, 0, 'tmux session gone after the client closed');
    // a new client lands in the same shell
    const sh2 = await h.openShell({ cols: 80, rows: 24 });
    const seen2 = record(sh2);
    sh2.write('echo AGAIN-$TLSECRET\r');
    await waitFor(sh2, seen2, /AGAIN-s3cr3t/);
    sh2.kill();
    await h.stop();
    assert.notEqual(spawnSync('tmux', ['-L', SOCKET, 'has-session', '-t', h.session]).status, 0, 'stop() left the session');
  } finally {
    ReattachingShell.retryDelayMs = old;
  }
});

test('spectate over ssh: attaches to the student\'s session only (never creates one), and does not resize it', { skip: skip ?? false }, async () => {
  const h = host({ user: 'lin' });
  await h.start();
  const hasSession = () => spawnSync('tmux', ['-L', SOCKET, 'has-session', '-t', `=${h.session}`]).status === 0;
  try {
    // No session yet: an instructor spectating gets an error, and no session is made.
    await assert.rejects(h.openShell({ cols: 80, rows: 24, spectate: true }), (e: LabHostError) => e.code === 'HOST_START_FAILED' && /lin has no terminal session yet/.test(e.message));
    assert.equal(hasSession(), false, 'spectating created the student\'s session');
    // The student's terminal makes it; the spectator then sees what the student types.
    const sh = await h.openShell({ cols: 100, rows: 30 });
    const seen = record(sh);
    sh.write('echo STUDENT$((6*7))\r');
    await waitFor(sh, seen, /STUDENT42/);
    const spy = await h.openShell({ cols: 40, rows: 10, spectate: true });
    const spied = record(spy);
    sh.write('echo LIVE$((7*7))\r');
    await waitFor(spy, spied, /LIVE49/);
    // a spectator's small window does not shrink the student's screen
    const width = spawnSync('tmux', ['-L', SOCKET, 'display-message', '-p', '-t', `=${h.session}:`, '#{window_width}'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(width, '100');
    const exited = new Promise((r) => spy.onExit(r));
    spy.kill();
    await exited;
    sh.kill();
    assert.equal(hasSession(), true, 'the session outlives its clients');
  } finally {
    await h.stop();
  }
  assert.equal(hasSession(), false);
});

test('host keys are checked even though the inventory says StrictHostKeyChecking no', { skip: skip ?? false }, async () => {
  for (const knownHosts of [sshd.emptyKnownHosts, sshd.wrongKnownHosts]) {
    await assert.rejects(host({ knownHosts }).start(), (e: LabHostError) => {
      assert.equal(e.code, 'HOST_UNREACHABLE');
      assert.match(e.message, /not trusted.*never accepted silently/);
      return true;
    });
  }
  // and the known_hosts files were not written to
  assert.equal(fs.readFileSync(sshd.emptyKnownHosts, 'utf8'), '');
});

test('a dead or silent host is reported as HOST_UNREACHABLE, never a hang', { skip: skip ?? false }, async () => {
  const inv = (port: number) => {
    const f = path.join(work, `inventory-${port}`);
    fs.writeFileSync(f, `Host lab\n  HostName 127.0.0.1\n  Port ${port}\n  User root\n`, { mode: 0o600 });
    return f;
  };
  // nothing listening
  const closed = await freePort();
  let t = Date.now();
  await assert.rejects(host({ host: 'lab', inventory: inv(closed) }).start(), (e: LabHostError) => e.code === 'HOST_UNREACHABLE' && /refused/i.test(e.message));
  const refusedMs = Date.now() - t;
  // a refused connection is known at once: no timeout should be waited out
  assert.ok(refusedMs < 5000, `a refused connection took ${refusedMs} ms to report`);
  // accepts TCP, never says a word: only the timeouts can end this
  const silent = net.createServer(() => undefined);
  const sockets: net.Socket[] = [];
  silent.on('connection', (s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (silent.address() as net.AddressInfo).port;
    t = Date.now();
    await assert.rejects(host({ host: 'lab', inventory: inv(port), connectTimeoutSec: 2 }).start(), (e: LabHostError) => e.code === 'HOST_UNREACHABLE');
    const silentMs = Date.now() - t;
    // ConnectTimeout 2 s bounds it (with the slack of a busy shared machine), not ssh's own defaults (minutes)
    console.log(`# silent host: HOST_UNREACHABLE after ${(silentMs / 1000).toFixed(1)} s (ConnectTimeout 2 s); refused after ${refusedMs} ms`);
    assert.ok(silentMs >= 1500, `reported after ${silentMs} ms: before the 2 s connect timeout could have run out`);
    assert.ok(silentMs < 15_000, `a silent host took ${silentMs} ms to report with ConnectTimeout 2 s`);
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
  // a started host whose server goes away: poll() reports it gone
  const h = host();
  await h.start();
  const other = await startSshd();
  const h2 = host({ inventory: other.inventory, knownHosts: other.knownHosts });
  await h2.start();
  await other.stop();
  assert.notEqual(await h2.poll(), null);
  assert.equal(await h.poll(), null);
});

test('inventory: `vagrant ssh-config` style hosts, and which host a user gets', () => {
  const text = 'Host default\n  HostName 127.0.0.1\n  Port 2222\n\nHost student-01 student-02\n  User student\nHost *\n  LogLevel FATAL\n';
  assert.deepEqual(inventoryHosts(text), ['default', 'student-01', 'student-02']);
  assert.equal(hostForUser(['student-01', 'student-02'], '02'), 'student-02');
  assert.equal(hostForUser(['default'], 'ada'), 'default');
  assert.equal(hostForUser(['a', 'b'], 'ada'), undefined);
  assert.throws(() => new SshHost({ user: 'ada', host: '-oProxyCommand=x', inventory: 'x', knownHosts: 'y' }), /bad host alias/);
});
