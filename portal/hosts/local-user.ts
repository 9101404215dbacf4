/**
 * The `local-user` LabHost: class mode on one machine. Everything the `local`
 * backend does (workspace copy, tmux session, exec of checkers), plus separation
 * between students as far as one Linux machine allows:
 *
 *  - a Unix user per student, `tracelab-<id>` (no password, no login shell);
 *  - the workspace is owned by that user, mode 0700; the data dir above it stays
 *    root's 0700, so nobody else's workspace, the database or the tmux socket can
 *    be reached from a student's shell;
 *  - the shell runs in a bubblewrap sandbox as that user, with no capabilities and
 *    no-new-privs: the root filesystem read-only, its own /tmp, /home holding only
 *    the student's workspace (at /home/<unix user>), its own PID, IPC and network
 *    namespaces (students' servers on 127.0.0.1 cannot see each other).
 *
 * What it cannot separate: tracing. bpftrace/perf need root and see every process
 * on the machine, so the students' shells here cannot trace; checkers (run by the
 * portal as root through exec) still can — and the student's code a checker starts
 * runs as the student, without the data dir (exec, src/check/limits.ts). For an untrusted class, or one where
 * students trace by hand, use one VM per student (the ssh or vagrant backend).
 *
 * Needs root (useradd, chown, bwrap as root). Everything else is LocalHost's.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { LocalHost } from './local';
import { INSTALL_ROOT } from '../../src/labs';
import { APP_HIDE_ENV, APP_USER_ENV, APP_WORKSPACE_ENV } from '../../src/check/limits';
import { ExecOptions, ExecResult, LabHost, LabHostError, Progress, ShellStream, Track } from './types';

export const UNIX_PREFIX = 'tracelab-';
/** useradd's limit is 32 characters. */
const UNIX_NAME_MAX = 32;

export interface LocalUserHostOptions {
  user: string;
  dataDir: string;
  labsDir: string;
}

export function unixName(user: string): string {
  const n = UNIX_PREFIX + user;
  if (n.length > UNIX_NAME_MAX) throw new LabHostError('HOST_INTERNAL', `user id '${user}' is too long for a Unix user name (${UNIX_NAME_MAX - UNIX_PREFIX.length} characters at most)`);
  return n;
}

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return { ok: false, out: `${cmd}: ${r.error.message}` };
  return { ok: r.status === 0, out: `${r.stdout || ''}${r.stderr || ''}`.trim() };
}

/** uid/gid of a Unix user, or null when there is none. */
export function unixIds(name: string): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Remove a student's Unix user (class remove, tests). Idempotent. */
export function removeUnixUser(user: string): void {
  const name = unixName(user);
  if (!unixIds(name)) return;
  // Anything still running as the user (a shell outside tmux, a stray server) goes first.
  spawnSync('pkill', ['-KILL', '-u', name], { stdio: 'ignore' });
  spawnSync('userdel', [name], { stdio: 'ignore' });
}

export class LocalUserHost implements LabHost {
  readonly kind = 'local-user';
  readonly track: Track = 'linux';
  readonly inner: LocalHost;
  readonly unixUser: string;

  constructor(private readonly opts: LocalUserHostOptions) {
    this.unixUser = unixName(opts.user);
    this.inner = new LocalHost({ user: opts.user, dataDir: opts.dataDir, labsDir: opts.labsDir, wrapShell: (argv) => this.sandbox(argv) });
  }

  get workspace(): string {
    return this.inner.workspace;
  }

  /** Where the workspace appears inside the sandbox (the student's $HOME). */
  get home(): string {
    return `/home/${this.unixUser}`;
  }

  async start(): Promise<void> {
    if (process.getuid && process.getuid() !== 0) {
      throw new LabHostError('HOST_START_FAILED', 'the local class backend creates a Unix user per student and needs root: run `tracelab serve` / `tracelab class` as root, or use the ssh backend');
    }
    for (const tool of ['bwrap', 'setpriv', 'useradd']) {
      if (!run('sh', ['-c', `command -v ${tool}`]).ok) throw new LabHostError('HOST_MISSING_TOOL', `${tool} is not installed; install it with: apt-get install ${tool === 'bwrap' ? 'bubblewrap' : tool === 'setpriv' ? 'util-linux' : 'passwd'}`);
    }
    if (!unixIds(this.unixUser)) {
      const r = run('useradd', ['--system', '--no-create-home', '--user-group', '--home-dir', this.home, '--shell', '/usr/sbin/nologin', '--comment', `tracelab student ${this.opts.user}`, this.unixUser]);
      if (!r.ok && !unixIds(this.unixUser)) throw new LabHostError('HOST_START_FAILED', `could not create Unix user ${this.unixUser}: ${r.out}`);
    }
    await this.inner.start();
    const ids = unixIds(this.unixUser)!;
    // The workspace (copied by LocalHost as root) becomes the student's alone.
    // lchown: the node_modules symlink points into the installation and must stay root's.
    chownTree(this.workspace, ids.uid, ids.gid);
    fs.chmodSync(this.workspace, 0o700);
    // The data dir holds the database and the tmux socket: root's alone. Students
    // never need to walk through it; the sandbox mounts their workspace elsewhere.
    fs.chmodSync(this.opts.dataDir, 0o700);
    fs.chmodSync(path.dirname(this.workspace), 0o711);
  }

  /** Read-only binds of the installation and the labs dir, re-exposed under the tmpfs mounts above. */
  private installBinds(): string[] {
    const dirs = [INSTALL_ROOT, path.resolve(this.opts.labsDir)];
    const hidden = ['/tmp', '/home', '/root'];
    return [...new Set(dirs)]
      .filter((d) => hidden.some((h) => d === h || d.startsWith(h + '/')))
      .flatMap((d) => ['--ro-bind', d, d]);
  }

  /** bwrap + setpriv around the shell: see the file comment for what each part is for. */
  private sandbox(argv: string[]): string[] {
    const rc = argv[2];
    return [
      'bwrap',
      '--ro-bind', '/', '/',
      '--dev', '/dev',
      '--proc', '/proc',
      '--tmpfs', '/tmp',
      '--tmpfs', '/home',
      '--tmpfs', '/root',
      // The installation (for `tracelab check` on PATH and the lab apps' node_modules) and
      // the labs stay readable even when they live under /tmp, /home or /root.
      ...this.installBinds(),
      '--tmpfs', path.dirname(path.dirname(this.workspace)), // the data dir: database, tmux socket, other workspaces
      '--bind', this.workspace, this.home,
      '--ro-bind', rc, '/tmp/.tracelab-shellrc',
      '--chdir', this.home,
      '--setenv', 'HOME', this.home,
      '--setenv', 'USER', this.unixUser,
      '--setenv', 'TRACELAB_WORKSPACE', this.home,
      '--unshare-pid', '--unshare-ipc', '--unshare-net', '--unshare-uts',
      '--hostname', `lab-${this.opts.user}`,
      '--die-with-parent',
      '--',
      'setpriv', '--reuid', this.unixUser, '--regid', this.unixUser, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all',
      'bash', '--rcfile', '/tmp/.tracelab-shellrc', '-i',
    ];
  }

  /** Gone when the shell host is stopped, or its Unix user or workspace vanished (an admin's userdel, a full disk clean-up). */
  async poll(): Promise<number | null> {
    const code = await this.inner.poll();
    if (code !== null) return code;
    return unixIds(this.unixUser) && fs.existsSync(this.workspace) ? null : 1;
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  getState(): Record<string, unknown> {
    return { ...this.inner.getState(), unixUser: this.unixUser };
  }

  loadState(state: Record<string, unknown>): void {
    this.inner.loadState(state);
  }

  async *progress(): AsyncIterable<Progress> {
    yield { percent: 100, message: `local host ready (Unix user ${this.unixUser})` };
  }

  openShell(opts: { cols: number; rows: number; spectate?: boolean }): Promise<ShellStream> {
    return this.inner.openShell(opts);
  }

  /**
   * Checkers run as root (tracing needs it), in the student's workspace; the student's
   * code they start runs as the student's Unix user, without the data dir in sight
   * (src/check/limits.ts reads these variables, and refuses the check if it cannot).
   */
  exec(argv: string[], opts: ExecOptions): Promise<ExecResult> {
    const env = {
      ...(opts.env || {}),
      [APP_USER_ENV]: this.unixUser,
      [APP_WORKSPACE_ENV]: this.workspace,
      [APP_HIDE_ENV]: path.resolve(this.opts.dataDir),
    };
    return this.inner.exec(argv, { ...opts, env });
  }
}

function chownTree(dir: string, uid: number, gid: number): void {
  fs.lchownSync(dir, uid, gid);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isSymbolicLink()) continue;
    if (e.isDirectory()) chownTree(p, uid, gid);
    else fs.lchownSync(p, uid, gid);
  }
}
