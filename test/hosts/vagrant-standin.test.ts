// The vagrant LabHost's command sequencing, with a STAND-IN `vagrant` on PATH
// (this test only: no VM can boot on this machine). The stand-in records its
// argv and answers in the shape of Vagrant's output (constructed here, not
// captured); its `ssh-config` points at the real loopback sshd of
// test/hosts/sshd-fixture.ts, so everything after `vagrant up` is real ssh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { VagrantHost, parseMachineReadable, rewriteSshConfig } from '../../portal/hosts/vagrant';
import { LabHostError, Progress } from '../../portal/hosts/types';
import { startSshd, sshdAvailable, Sshd, killRemoteTmux } from './sshd-fixture';
import { HOST_BACKENDS } from '../../portal/hosts';
import { buildApp } from '../../portal/server/app';
import { MSG } from '../../portal/shared/protocol';
import { tempData, testConfig, cleanupData, login, TermClient } from '../server/harness';

const skip = sshdAvailable();
let sshd: Sshd;
let work: string;
const SOCKET = `tracelab-vtest-${process.pid}`;

const STANDIN = `#!/bin/sh
# Stand-in for vagrant (test/hosts/vagrant-standin.test.ts only).
printf '%s\\n' "$*" >> "$STANDIN_LOG"
case "$1" in
up)
  if [ -n "$STANDIN_FAIL" ]; then
    echo "1700000000,,error-exit,Vagrant::Errors::BoxNotFound,The box 'tracelab-illumos' could not be found%!(VAGRANT_COMMA) add it with vagrant box add"
    exit 1
  fi
  echo "1700000000,lab,metadata,provider,libvirt"
  echo "1700000000,lab,ui,info,Bringing machine 'lab' up with 'libvirt' provider..."
  echo "1700000001,lab,ui,info,==> lab: Creating image (snapshot of base box volume)."
  echo "1700000002,lab,ui,info,==> lab: Starting domain."
  echo "1700000003,lab,ui,info,==> lab: Waiting for domain to get an IP address..."
  echo "1700000004,lab,ui,info,==> lab: Machine booted and ready!"
  echo "1700000005,lab,ui,info,==> lab: Running provisioner: per-machine (shell)..."
  ;;
ssh-config) cat "$STANDIN_SSH_CONFIG" ;;
ssh) cat "$STANDIN_HOST_KEY" ;;
status) echo "1700000000,lab,provider-name,libvirt"; echo "1700000000,lab,state,running" ;;
halt|destroy) ;;
*) echo "stand-in vagrant: unexpected $*" >&2; exit 2 ;;
esac
`;

function host(env: Record<string, string> = {}): VagrantHost {
  return new VagrantHost({
    user: 'ada',
    vagrantDir: work,
    dataDir: path.join(work, 'data'),
    sshUser: 'root',
    env: {
      PATH: `${path.join(work, 'standin')}:${process.env.PATH}`,
      STANDIN_LOG: path.join(work, 'vagrant.log'),
      STANDIN_SSH_CONFIG: path.join(work, 'ssh-config'),
      STANDIN_HOST_KEY: path.join(sshd.dir, 'host_key.pub'),
      ...env,
    },
    ssh: { workspace: path.join(work, 'ws'), labsSource: path.join(work, 'labs-src'), stateDir: path.join(work, 'state'), tmuxSocket: SOCKET, connectTimeoutSec: 3 },
  });
}

const log = () => (fs.existsSync(path.join(work, 'vagrant.log')) ? fs.readFileSync(path.join(work, 'vagrant.log'), 'utf8').trim().split('\n') : []);

before(async () => {
  if (skip) return;
  sshd = await startSshd();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-vagrant-'));
  fs.mkdirSync(path.join(work, 'standin'));
  fs.writeFileSync(path.join(work, 'standin', 'vagrant'), STANDIN, { mode: 0o755 });
  fs.mkdirSync(path.join(work, 'labs-src', '00-x'), { recursive: true });
  // What `vagrant ssh-config` prints (User vagrant, no host key checking), aimed at the test sshd.
  fs.writeFileSync(
    path.join(work, 'ssh-config'),
    `Host lab\n  HostName 127.0.0.1\n  User vagrant\n  Port ${sshd.port}\n  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n  PasswordAuthentication no\n  IdentityFile ${path.join(sshd.dir, 'client_key')}\n  IdentitiesOnly yes\n  LogLevel FATAL\n`,
  );
});

after(async () => {
  if (skip) return;
  killRemoteTmux(SOCKET);
  await sshd.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('stand-in vagrant: start() runs up → ssh-config → host key read, streams progress, then works over real ssh', { skip: skip ?? false }, async () => {
  // an old key for the same address (a box destroyed and recreated) must be replaced
  fs.mkdirSync(path.join(work, 'data', 'vagrant'), { recursive: true });
  fs.copyFileSync(sshd.wrongKnownHosts, path.join(work, 'data', 'vagrant', 'known_hosts'));
  const h = host();
  const events: Progress[] = [];
  const collecting = (async () => {
    for await (const p of h.progress()) events.push(p);
  })();
  await h.start();
  await collecting;
  assert.deepEqual(log(), ['up lab --machine-readable', 'ssh-config lab', 'ssh lab -c cat /etc/ssh/ssh_host_ed25519_key.pub']);
  const percents = events.map((e) => e.percent);
  assert.deepEqual([...percents].sort((a, b) => a - b), percents, `progress went backwards: ${percents}`);
  assert.ok(events.some((e) => e.message === 'booting'), JSON.stringify(events));
  assert.equal(events[events.length - 1].percent, 100);
  const known = fs.readFileSync(h.knownHostsFile, 'utf8').trim().split('\n');
  assert.equal(known.length, 1);
  assert.equal(known[0].split(' ').slice(1).join(' '), fs.readFileSync(path.join(sshd.dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' '));
  assert.match(fs.readFileSync(h.sshConfigFile, 'utf8'), /User root/);

  const r = await h.exec(['echo', 'over', 'ssh'], { timeoutMs: 20_000 });
  assert.equal(r.stdout, 'over ssh\n');
  assert.equal(h.track, 'illumos');
  assert.equal(await h.poll(), null);
  assert.equal(log().pop(), 'status lab --machine-readable');

  // an instructor spectating before the student opened a terminal: an error, and no session made
  await assert.rejects(h.openShell({ cols: 80, rows: 24, spectate: true }), (e: LabHostError) => e.code === 'HOST_START_FAILED' && /no terminal session yet/.test(e.message));
  assert.equal(spawnSync('tmux', ['-L', SOCKET, 'list-sessions'], { encoding: 'utf8' }).stdout.trim(), '', 'spectating created a tmux session');

  // a restarted portal: same data dir, state loaded, no `vagrant up` again
  const again = host();
  again.loadState(JSON.parse(JSON.stringify(h.getState())));
  const before = log().length;
  assert.equal((await again.exec(['echo', 'still'], { timeoutMs: 20_000 })).stdout, 'still\n');
  assert.equal(log().length, before);

  await h.stop();
  assert.equal(log().pop(), 'halt lab');
  await h.destroy();
  assert.equal(log().pop(), 'destroy -f lab');
});

test('stand-in vagrant: its progress reaches the lab page\'s terminal socket, then the shell over ssh', { skip: skip ?? false }, async () => {
  // This test's portal gets the stand-in vagrant host through a backend registered for it alone.
  HOST_BACKENDS['vagrant-standin'] = () => host();
  const data = tempData();
  const portal = buildApp(testConfig(data, { hostBackend: 'vagrant-standin' }), { log: () => undefined });
  let t: TermClient | null = null;
  try {
    const { url } = await portal.listen();
    const cookie = await login(url, portal.issueLoginToken('ada'));
    const c = (t = new TermClient(url.replace('http:', 'ws:') + 'api/terminal?cols=100&rows=30', { Origin: url.replace(/\/$/, ''), cookie }));
    await c.until(() => c.controls.some((m) => m.t === MSG.STATUS && m.state === 'attached'), 'attached over ssh', 30000);
    const upTo = c.controls.findIndex((m) => m.state === 'attached');
    const shown = c.controls.slice(0, upTo).filter((m) => m.t === MSG.HOST_PROGRESS).map((m) => m.message);
    for (const m of ['booting', 'provisioning', 'connecting']) assert.ok(shown.includes(m), `'${m}' reached the page: ${JSON.stringify(shown)}`);
    assert.ok(shown.indexOf('booting') < shown.indexOf('connecting'), JSON.stringify(shown));
    c.type('echo vg-$((6*7))\r');
    await c.until(() => /vg-42/.test(c.text), 'vg-42 from the shell on the "box"');
    assert.equal(portal.hosts.status('ada')!.state, 'running');
  } finally {
    if (t) await t.close();
    await portal.close();
    delete HOST_BACKENDS['vagrant-standin'];
    cleanupData(data);
  }
});

test('stand-in vagrant: a failed `vagrant up` rejects HOST_START_FAILED with Vagrant\'s own reason', { skip: skip ?? false }, async () => {
  const h = host({ STANDIN_FAIL: '1' });
  await assert.rejects(h.start(), (e: LabHostError) => {
    assert.equal(e.code, 'HOST_START_FAILED');
    assert.match(e.message, /could not be found, add it with vagrant box add/);
    return true;
  });
  // the progress stream ends too, with the reason
  const events: Progress[] = [];
  for await (const p of h.progress()) events.push(p);
  assert.match(events[events.length - 1].message, /could not be found/);
  await assert.rejects(h.exec(['true'], { timeoutMs: 1000 }), (e: LabHostError) => e.code === 'HOST_NOT_STARTED');
});

test('vagrant output parsing: machine-readable escapes and the ssh-config rewrite', () => {
  assert.deepEqual(parseMachineReadable('1700000000,lab,ui,info,a%!(VAGRANT_COMMA) b\\nc'), { target: 'lab', type: 'ui', data: ['info', 'a, b\nc'] });
  assert.equal(parseMachineReadable('==> lab: not machine readable'), null);
  const cfg = rewriteSshConfig('Host default\n  HostName 127.0.0.1\n  User vagrant\n  Port 2222\n\nHost other\n  User x\n', 'student-01', 'student');
  assert.equal(cfg, 'Host student-01\n  HostName 127.0.0.1\n  User student\n  Port 2222\n');
  assert.throws(() => new VagrantHost({ user: 'a', vagrantDir: '.', dataDir: '.', machine: '--provision' }), /bad machine name/);
});
