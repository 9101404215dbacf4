/**
 * The `vagrant` LabHost: a lab box from vm/ (the illumos image) brought up with
 * Vagrant on the portal's machine. It drives `vagrant up/halt/destroy`, turns
 * `vagrant up --machine-readable` output into progress() events, and once the
 * box is up hands shells and checks to the ssh backend through the box's own
 * `vagrant ssh-config` (so there is one way to talk to a remote host).
 *
 * Host keys: Vagrant's ssh-config says StrictHostKeyChecking no. The ssh backend
 * overrides that, so after `up` this backend reads the box's ed25519 host key
 * through Vagrant's own channel (`vagrant ssh -c`, a VM this backend just
 * created on this machine) and pins it in the portal's known_hosts for that
 * machine's address and port, replacing an older key for the same address
 * (a destroyed and recreated box has new keys).
 *
 * Command sequence of start():
 *   vagrant up MACHINE --machine-readable      (progress events)
 *   vagrant ssh-config MACHINE                 (-> <dataDir>/vagrant/MACHINE.ssh_config, User student)
 *   vagrant ssh MACHINE -c 'cat /etc/ssh/ssh_host_ed25519_key.pub'   (-> known_hosts)
 *   then the ssh backend's start() as the student.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ProgressFeed } from './progress-feed';
import { SshHost, SshHostOptions } from './ssh';
import { ExecOptions, ExecResult, LabHost, LabHostError, Progress, ShellStream, Track } from './types';

export interface VagrantHostOptions {
  /** Portal user id. */
  user: string;
  /** The directory holding the Vagrantfile (the repository's vm/). */
  vagrantDir: string;
  /** Machine name in the Vagrantfile: "lab" (one box) or "student-NN" (class mode). */
  machine?: string;
  /** Where the ssh-config and known_hosts for the box are kept. */
  dataDir: string;
  /** Who the terminal logs in as. Default "student" (DTrace privileges; see vm/scripts/40-student.sh). */
  sshUser?: string;
  /** Environment for every vagrant command (TRACELAB_STUDENTS, VAGRANT_DEFAULT_PROVIDER, PATH...). */
  env?: Record<string, string>;
  /** `vagrant up` may download and boot a box: default 30 minutes. */
  upTimeoutMs?: number;
  /** Other vagrant commands. Default 2 minutes. */
  commandTimeoutMs?: number;
  /** Passed on to the ssh backend. */
  ssh?: Partial<SshHostOptions>;
}

const MACHINE_RE = /^[a-z0-9][a-z0-9-]{0,60}$/;

/** One line of `--machine-readable` output: timestamp,target,type,data... (commas in data escaped). */
export interface MachineReadableLine {
  target: string;
  type: string;
  data: string[];
}

export function parseMachineReadable(line: string): MachineReadableLine | null {
  const parts = line.replace(/\r$/, '').split(',');
  if (parts.length < 3 || !/^\d+$/.test(parts[0])) return null;
  const unescape = (s: string) => s.replace(/%!\(VAGRANT_COMMA\)/g, ',').replace(/\\n/g, '\n').replace(/\\r/g, '');
  return { target: parts[1], type: parts[2], data: parts.slice(3).map(unescape) };
}

/** How far `vagrant up` is, from the phase its messages name. Monotonic per start. */
const PHASES: [RegExp, number, string][] = [
  [/Box .* could not be found|Adding box|Downloading/i, 5, 'downloading the lab box'],
  [/Importing base box|Uploading base box|Creating image|Cloning/i, 15, 'importing the lab box'],
  [/Creating domain|Preparing network|Clearing any previously set network/i, 25, 'creating the VM'],
  [/Starting domain|Booting VM|Booting/i, 35, 'booting'],
  [/Waiting for (domain|machine) to (get an IP|boot)/i, 45, 'waiting for the VM to boot'],
  [/Key inserted|Inserting generated public key/i, 65, 'installing a login key'],
  [/Machine booted and ready/i, 70, 'booted'],
  [/Setting hostname/i, 75, 'setting the hostname'],
  [/Running provisioner/i, 85, 'provisioning'],
  [/Machine already provisioned|is already running/i, 88, 'already running'],
];

function progressFor(message: string): { percent: number; label: string } | null {
  for (const [re, percent, label] of PHASES) if (re.test(message)) return { percent, label };
  return null;
}

/** Rewrite `vagrant ssh-config` output for the portal: one Host named after the machine, logging in as `user`. */
export function rewriteSshConfig(text: string, machine: string, user: string): string {
  const out: string[] = [];
  let inHost = false;
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1].toLowerCase();
    if (key === 'host') {
      if (inHost) break; // only the first Host block is this machine
      inHost = true;
      out.push(`Host ${machine}`);
      continue;
    }
    if (!inHost) continue;
    if (key === 'user') out.push(`  User ${user}`);
    else out.push(`  ${m[1]} ${m[2]}`);
  }
  if (!inHost) throw new LabHostError('HOST_START_FAILED', 'vagrant ssh-config printed no Host block');
  if (!out.some((l) => /^\s+User /.test(l))) out.push(`  User ${user}`);
  return out.join('\n') + '\n';
}

function sshConfigValue(config: string, key: string): string | undefined {
  const m = new RegExp(`^\\s*${key}\\s+(.+?)\\s*$`, 'mi').exec(config);
  return m ? m[1].replace(/^"(.*)"$/, '$1') : undefined;
}

export class VagrantHost implements LabHost {
  readonly kind = 'vagrant';
  readonly track: Track = 'illumos';
  readonly machine: string;
  private ssh: SshHost | null = null;
  private readonly feed = new ProgressFeed();
  private readonly dir: string;

  constructor(private readonly o: VagrantHostOptions) {
    this.machine = o.machine ?? 'lab';
    if (!MACHINE_RE.test(this.machine)) throw new LabHostError('HOST_INTERNAL', `bad machine name '${this.machine}'`);
    this.dir = path.join(o.dataDir, 'vagrant');
  }

  get workspace(): string {
    return this.ssh ? this.ssh.workspace : 'labs';
  }

  get sshConfigFile(): string {
    return path.join(this.dir, `${this.machine}.ssh_config`);
  }

  get knownHostsFile(): string {
    return path.join(this.dir, 'known_hosts');
  }

  /** Run one vagrant command in vm/; each stdout line goes to onLine. */
  private vagrant(args: string[], timeoutMs: number, onLine?: (l: string) => void): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
    return new Promise((resolve) => {
      const env = { ...process.env, VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_NO_COLOR: '1', ...(this.o.env || {}) };
      const child = spawn('vagrant', args, { cwd: this.o.vagrantDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let stdout = '';
      let stderr = '';
      let partial = '';
      child.stdout.on('data', (b: Buffer) => {
        stdout += b;
        partial += b;
        const lines = partial.split('\n');
        partial = lines.pop()!;
        if (onLine) for (const l of lines) onLine(l);
      });
      child.stderr.on('data', (b: Buffer) => (stderr += b));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ code: 127, stdout, stderr: `vagrant: ${e.message}`, timedOut: false });
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (partial && onLine) onLine(partial);
        resolve({ code, stdout, stderr, timedOut });
      });
    });
  }

  private failure(what: string, r: { code: number | null; stdout: string; stderr: string; timedOut: boolean }): LabHostError {
    if (r.code === 127 && /ENOENT/.test(r.stderr)) {
      return new LabHostError('HOST_MISSING_TOOL', 'vagrant is not installed on the portal machine (apt-get install vagrant)');
    }
    // error-exit lines carry Vagrant's own explanation
    let why = '';
    for (const l of r.stdout.split('\n')) {
      const m = parseMachineReadable(l);
      if (m && m.type === 'error-exit') why = m.data.slice(1).join(' ').trim();
    }
    if (!why) why = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ');
    return new LabHostError('HOST_START_FAILED', `${what} ${r.timedOut ? 'timed out' : `failed (exit ${r.code})`}: ${why.slice(0, 500)}`);
  }

  async start(): Promise<void> {
    this.feed.reset();
    this.feed.push(1, `vagrant up ${this.machine}`);
    let percent = 1;
    const up = await this.vagrant(['up', this.machine, '--machine-readable'], this.o.upTimeoutMs ?? 30 * 60_000, (line) => {
      const m = parseMachineReadable(line);
      if (!m || m.type !== 'ui') return;
      const msg = m.data.slice(1).join(',').trim();
      const p = progressFor(msg);
      if (p && p.percent > percent) {
        percent = p.percent;
        this.feed.push(percent, p.label);
      }
    });
    if (up.code !== 0) {
      const e = this.failure(`vagrant up ${this.machine}`, up);
      this.feed.push(percent, e.message);
      this.feed.close();
      throw e;
    }
    try {
      this.feed.push(90, 'connecting');
      const timeout = this.o.commandTimeoutMs ?? 120_000;
      const cfg = await this.vagrant(['ssh-config', this.machine], timeout);
      if (cfg.code !== 0) throw this.failure(`vagrant ssh-config ${this.machine}`, cfg);
      const config = rewriteSshConfig(cfg.stdout, this.machine, this.o.sshUser ?? 'student');
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(this.sshConfigFile, config, { mode: 0o600 });
      await this.pinHostKey(config, timeout);
      this.ssh = this.makeSsh();
      this.feed.push(95, 'opening the workspace');
      await this.ssh.start();
      this.feed.push(100, `${this.machine} ready`);
    } catch (e) {
      // Say why on the feed: a progress bar waiting on it would otherwise wait forever.
      this.feed.push(this.feed.last ? this.feed.last.percent : 90, (e as Error).message);
      throw e;
    } finally {
      this.feed.close();
    }
  }

  /** Read the box's host key through Vagrant and trust exactly it for the box's address. */
  private async pinHostKey(config: string, timeout: number): Promise<void> {
    const r = await this.vagrant(['ssh', this.machine, '-c', 'cat /etc/ssh/ssh_host_ed25519_key.pub'], timeout);
    const key = /^(ssh-ed25519 [A-Za-z0-9+/=]+)/m.exec(r.stdout);
    if (r.code !== 0 || !key) throw this.failure(`reading the host key of ${this.machine}`, r);
    const hostName = sshConfigValue(config, 'HostName') ?? '127.0.0.1';
    const port = sshConfigValue(config, 'Port') ?? '22';
    const name = port === '22' ? hostName : `[${hostName}]:${port}`;
    const old = fs.existsSync(this.knownHostsFile) ? fs.readFileSync(this.knownHostsFile, 'utf8').split('\n') : [];
    const kept = old.filter((l) => l.trim() && l.split(/\s+/)[0] !== name);
    fs.writeFileSync(this.knownHostsFile, [...kept, `${name} ${key[1]}`].join('\n') + '\n', { mode: 0o600 });
  }

  private makeSsh(): SshHost {
    return new SshHost({
      user: this.o.user,
      host: this.machine,
      inventory: this.sshConfigFile,
      knownHosts: this.knownHostsFile,
      track: 'illumos',
      labsSource: '/opt/tracelab/labs',
      ...(this.o.ssh || {}),
    });
  }

  async poll(): Promise<number | null> {
    const r = await this.vagrant(['status', this.machine, '--machine-readable'], this.o.commandTimeoutMs ?? 120_000);
    let state = '';
    for (const l of r.stdout.split('\n')) {
      const m = parseMachineReadable(l);
      if (m && m.type === 'state' && m.target === this.machine) state = m.data[0];
    }
    if (state !== 'running') return state ? 1 : 255;
    return this.ssh ? this.ssh.poll() : 0;
  }

  /** Halt the box (its disk, and the student's work, stay). */
  async stop(): Promise<void> {
    if (this.ssh) await this.ssh.stop().catch(() => undefined);
    const r = await this.vagrant(['halt', this.machine], this.o.commandTimeoutMs ?? 120_000);
    if (r.code !== 0) throw this.failure(`vagrant halt ${this.machine}`, r);
  }

  /** Delete the box and everything on it (instructor's reset). */
  async destroy(): Promise<void> {
    if (this.ssh) await this.ssh.stop().catch(() => undefined);
    this.ssh = null;
    const r = await this.vagrant(['destroy', '-f', this.machine], this.o.commandTimeoutMs ?? 120_000);
    if (r.code !== 0) throw this.failure(`vagrant destroy ${this.machine}`, r);
  }

  getState(): Record<string, unknown> {
    return { machine: this.machine, ssh: this.ssh ? this.ssh.getState() : null };
  }

  loadState(state: Record<string, unknown>): void {
    // The ssh-config and known_hosts written by start() are still in dataDir.
    if (state.ssh && fs.existsSync(this.sshConfigFile)) {
      this.ssh = this.makeSsh();
      this.ssh.loadState(state.ssh as Record<string, unknown>);
    }
  }

  progress(): AsyncIterable<Progress> {
    return this.feed.stream();
  }

  private need(): SshHost {
    if (!this.ssh) throw new LabHostError('HOST_NOT_STARTED', `vagrant machine ${this.machine} is not started`);
    return this.ssh;
  }

  async openShell(size: { cols: number; rows: number; spectate?: boolean }): Promise<ShellStream> {
    return this.need().openShell(size);
  }

  async exec(argv: string[], opts: ExecOptions): Promise<ExecResult> {
    return this.need().exec(argv, opts);
  }
}
