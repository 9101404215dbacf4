// vm/README.md's ssh flow, run as written: its `vagrant ssh-config ... > inventory`
// line with a stand-in vagrant (no VM boots here) printing what `vagrant
// ssh-config` prints for the box, then OpenSSH's own reading of the inventory
// (`ssh -G`, which resolves the config without connecting): the portal must log
// in as student (the account with the DTrace privileges, vm/scripts/40-student.sh),
// not as vagrant. That the ssh backend then finds the box's installed labs is
// test/hosts/ssh.test.ts's (a real sshd).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const VM = path.join(ROOT, 'vm');

// `vagrant ssh-config` of a libvirt box (Vagrant 2.3.4's layout: two-space indent).
const SSH_CONFIG = [
  'Host lab',
  '  HostName 192.168.121.10',
  '  User vagrant',
  '  Port 22',
  '  UserKnownHostsFile /dev/null',
  '  StrictHostKeyChecking no',
  '  PasswordAuthentication no',
  '  IdentityFile /home/teacher/tracelab/vm/.vagrant/machines/lab/libvirt/private_key',
  '  IdentitiesOnly yes',
  '  LogLevel FATAL',
  '',
].join('\n');

/** Runs one documented shell line in a temp dir holding vm/, with the stand-in vagrant; returns ssh's resolved user for `lab`. */
function userAfter(line: string): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-sshflow-'));
  try {
    fs.mkdirSync(path.join(tmp, 'vm'));
    fs.mkdirSync(path.join(tmp, 'bin'));
    fs.writeFileSync(path.join(tmp, 'ssh-config'), SSH_CONFIG);
    fs.writeFileSync(
      path.join(tmp, 'bin', 'vagrant'),
      `#!/bin/sh\n[ "$1" = ssh-config ] || exit 2\ncat '${path.join(tmp, 'ssh-config')}'\n`,
      { mode: 0o755 },
    );
    const r = spawnSync('sh', ['-eu', '-c', line], { cwd: tmp, encoding: 'utf8', env: { ...process.env, PATH: `${path.join(tmp, 'bin')}:${process.env.PATH}` } });
    assert.equal(r.status, 0, `${line}: ${r.stderr}`);
    const g = spawnSync('ssh', ['-G', '-F', path.join(tmp, 'inventory'), 'lab'], { encoding: 'utf8' });
    if (g.error) throw new Error(`ssh could not run (${g.error.message}): ./setup.sh test installs it`);
    assert.equal(g.status, 0, g.stderr);
    const user = /^user (\S+)$/m.exec(g.stdout);
    assert.ok(user, g.stdout);
    assert.match(g.stdout, /^hostname 192\.168\.121\.10$/m);
    return user[1];
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

test("vm/README.md's inventory line makes the portal log in as student", () => {
  const readme = fs.readFileSync(path.join(VM, 'README.md'), 'utf8');
  const lines = readme.split('\n').filter((l) => /vagrant ssh-config\)?\s*\|.*>\s*inventory/.test(l) && !l.startsWith('`'));
  assert.equal(lines.length, 1, `expected one documented inventory command, found: ${JSON.stringify(lines)}`);
  assert.equal(userAfter(lines[0].trim()), 'student');
  // the serve line follows it
  assert.match(readme, /> inventory\ntracelab serve --host-backend ssh --inventory inventory\n/);
});

test("the Vagrantfile's comment documents the same rewrite, and the box gives student the vagrant key", () => {
  const vf = fs.readFileSync(path.join(VM, 'Vagrantfile'), 'utf8');
  const m = /^#\s+(vagrant ssh-config \| sed .*> inventory)$/m.exec(vf);
  assert.ok(m, 'the Vagrantfile names the inventory command');
  assert.equal(userAfter(m[1]), 'student');
  // per-machine provisioning: the key `vagrant ssh-config` names also opens student's account
  assert.match(vf, /cp \/export\/home\/vagrant\/\.ssh\/authorized_keys \/export\/home\/student\/\.ssh\/authorized_keys/);
});

test('the check has teeth: the plain `vagrant ssh-config > inventory` logs in as vagrant', () => {
  assert.equal(userAfter('(cd vm && vagrant ssh-config) > inventory'), 'vagrant');
});
