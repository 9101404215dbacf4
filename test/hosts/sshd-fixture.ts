/**
 * A real OpenSSH server on loopback for the ssh backend's tests: Debian's
 * /usr/sbin/sshd with its own config, host key, port and authorized key, in a
 * temp dir. The client side gets an inventory written in `vagrant ssh-config`'s
 * format (including its StrictHostKeyChecking no, which the backend must
 * override) and a known_hosts holding the server's key.
 */
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { freePort } from '../../src/check/proc';
import { SshHost } from '../../portal/hosts/ssh';

export interface Sshd {
  dir: string;
  port: number;
  pid: number;
  inventory: string;
  knownHosts: string;
  /** Known hosts file naming another key for the same host (a changed host key). */
  wrongKnownHosts: string;
  emptyKnownHosts: string;
  hostAlias: string;
  /** Kill the per-connection sshd processes (drops every session, keeps the server). */
  dropConnections(): number;
  stop(): Promise<void>;
}

// ssh.test.ts takes freePort from here with the fixture; it is the project's one helper.
export { freePort };

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tracelab-test', '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

export function sshdAvailable(): string | null {
  if (!fs.existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd is missing (apt-get install openssh-server)';
  if (spawnSync('ssh', ['-V']).error) return 'the ssh client is missing (apt-get install openssh-client)';
  if (process.getuid && process.getuid() !== 0) return 'the sshd fixture logs in as root and needs to run as root';
  return null;
}

export async function startSshd(): Promise<Sshd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-sshd-'));
  fs.chmodSync(dir, 0o700);
  const port = await freePort();
  keygen(path.join(dir, 'host_key'));
  keygen(path.join(dir, 'other_host_key'));
  keygen(path.join(dir, 'client_key'));
  fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
  // sshd refuses to start without its privilege-separation directory.
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_key')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b) => (stderr += b));
  // Ready when the port accepts connections.
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${stderr}`);
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) break;
    if (i > 100) throw new Error(`sshd did not listen on ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const hostAlias = 'default';
  const inventory = path.join(dir, 'inventory');
  // The shape of `vagrant ssh-config` output, pointing at this sshd.
  fs.writeFileSync(
    inventory,
    [
      `Host ${hostAlias}`,
      '  HostName 127.0.0.1',
      '  User root',
      `  Port ${port}`,
      '  UserKnownHostsFile /dev/null',
      '  StrictHostKeyChecking no',
      '  PasswordAuthentication no',
      `  IdentityFile ${path.join(dir, 'client_key')}`,
      '  IdentitiesOnly yes',
      '  LogLevel FATAL',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const pub = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${port} ${pub('host_key.pub')}\n`);
  const wrongKnownHosts = path.join(dir, 'known_hosts.wrong');
  fs.writeFileSync(wrongKnownHosts, `[127.0.0.1]:${port} ${pub('other_host_key.pub')}\n`);
  const emptyKnownHosts = path.join(dir, 'known_hosts.empty');
  fs.writeFileSync(emptyKnownHosts, '');
  const pid = child.pid!;
  const sshd: Sshd = {
    dir,
    port,
    pid,
    inventory,
    knownHosts,
    wrongKnownHosts,
    emptyKnownHosts,
    hostAlias,
    dropConnections() {
      // sshd forks one process per connection; its children are exactly those.
      const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
      const kids = r.stdout.split(/\s+/).filter(Boolean).map(Number);
      for (const k of kids) {
        try {
          process.kill(k, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      return kids.length;
    },
    async stop() {
      sshd.dropConnections();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return sshd;
}

/**
 * Kill the tmux server the ssh host started "remotely" (here: on this machine, socket
 * `-L name`) and its socket file, which tmux leaves when its last session was killed
 * rather than exited.
 */
export function killRemoteTmux(socketName: string): void {
  spawnSync('tmux', ['-L', socketName, 'kill-server'], { stdio: 'ignore' });
  fs.rmSync(path.join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid!()}`, socketName), { force: true });
}

/**
 * An SshHost on this sshd with everything under `work` (workspace, labs source, state,
 * a `bin` on the remote PATH) and the tmux socket `socket`; `over` changes any option.
 */
export function fixtureSshHost(sshd: Sshd, work: string, socket: string, over: Partial<ConstructorParameters<typeof SshHost>[0]> = {}): SshHost {
  return new SshHost({
    user: 'ada',
    host: sshd.hostAlias,
    inventory: sshd.inventory,
    knownHosts: sshd.knownHosts,
    workspace: path.join(work, 'ws'),
    labsSource: path.join(work, 'labs-src'),
    stateDir: path.join(work, 'state'),
    tmuxSocket: socket,
    remotePath: [path.join(work, 'bin')],
    connectTimeoutSec: 3,
    serverAliveSec: 2,
    ...over,
  });
}
