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
import { execFile, spawnSync } from 'child_process';
import { promisify } from 'util';
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

const execFileP = promisify(execFile);

/** Run a command without blocking the event loop; ok and its output (never rejects). */
async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await execFileP(cmd, args, { encoding: 'utf8' });
    return { ok: true, out: `${r.stdout || ''}${r.stderr || ''}`.trim() };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: unknown; message: string };
    if (typeof err.code === 'string') return { ok: false, out: `${cmd}: ${err.message}` };
    return { ok: false, out: `${err.stdout || ''}${err.stderr || ''}`.trim() };
  }
}

type Ids = { uid: number; gid: number };

const PASSWD = '/etc/passwd';

function parsePasswd(text: string): Map<string, Ids> {
  const m = new Map<string, Ids>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && f[0] && /^\d+$/.test(f[2]) && /^\d+$/.test(f[3])) m.set(f[0], { uid: Number(f[2]), gid: Number(f[3]) });
  }
  return m;
}

/**
 * uid/gid of a Unix user, or null when there is none. /etc/passwd first (useradd writes
 * there), then `id` for users only NSS knows (LDAP and the like).
 */
export function unixIds(name: string): Ids | null {
  let text = '';
  try {
    text = fs.readFileSync(PASSWD, 'utf8');
  } catch {
    // no /etc/passwd: ask id
  }
  const hit = parsePasswd(text).get(name);
  if (hit) return hit;
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** One read of /etc/passwd serves every host polled within this long (a poll round covers all students). */
export const PASSWD_TTL_MS = 1000;
let passwd: { at: number; map: Promise<Map<string, Ids>> } | null = null;

let passwdReads = 0;

/** Reads of /etc/passwd made by unixIdsAsync so far (tests: one per poll round, not one per student). */
export function passwdReadCount(): number {
  return passwdReads;
}

/** unixIds without blocking the event loop: polls of many hosts share one async read of /etc/passwd. */
export async function unixIdsAsync(name: string): Promise<Ids | null> {
  const now = Date.now();
  if (!passwd || now - passwd.at > PASSWD_TTL_MS) {
    passwdReads++;
    passwd = { at: now, map: fs.promises.readFile(PASSWD, 'utf8').then(parsePasswd, () => new Map()) };
  }
  const hit = (await passwd.map).get(name);
  if (hit) return hit;
  const [u, g] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
  if (!u.ok || !g.ok) return null;
  return { uid: Number(u.out), gid: Number(g.out) };
}

/** Is `tool` an executable on PATH (what `command -v` answered, without a shell)? */
async function onPath(tool: string): Promise<boolean> {
  for (const dir of (process.env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir) continue;
    try {
      await fs.promises.access(path.join(dir, tool), fs.constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
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
      if (!(await onPath(tool))) throw new LabHostError('HOST_MISSING_TOOL', `${tool} is not installed; install it with: apt-get install ${tool === 'bwrap' ? 'bubblewrap' : tool === 'setpriv' ? 'util-linux' : 'passwd'}`);
    }
    if (!(await unixIdsFresh(this.unixUser))) {
      const r = await run('useradd', ['--system', '--no-create-home', '--user-group', '--home-dir', this.home, '--shell', '/usr/sbin/nologin', '--comment', `tracelab student ${this.opts.user}`, this.unixUser]);
      if (!r.ok && !(await unixIdsFresh(this.unixUser))) throw new LabHostError('HOST_START_FAILED', `could not create Unix user ${this.unixUser}: ${r.out}`);
    }
    await this.inner.start();
    const ids = (await unixIdsFresh(this.unixUser))!;
    // The workspace (copied by LocalHost as root) becomes the student's alone.
    // The node_modules symlink points into the installation and must stay root's.
    await chownTree(this.workspace, ids.uid, ids.gid);
    await fs.promises.chmod(this.workspace, 0o700);
    // The data dir holds the database and the tmux socket: root's alone. Students
    // never need to walk through it; the sandbox mounts their workspace elsewhere.
    await fs.promises.chmod(this.opts.dataDir, 0o700);
    await fs.promises.chmod(path.dirname(this.workspace), 0o711);
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
    const [ids, ws] = await Promise.all([
      unixIdsAsync(this.unixUser),
      fs.promises.stat(this.workspace).then(
        () => true,
        () => false,
      ),
    ]);
    return ids && ws ? null : 1;
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

/** unixIdsAsync, but never from a read older than this call (start creates users: it must see them). */
function unixIdsFresh(name: string): Promise<Ids | null> {
  passwd = null;
  return unixIdsAsync(name);
}

/**
 * Give everything under `dir` to uid:gid, without blocking the event loop. It runs on
 * every start, also when a portal restart re-attaches a student whose shell is live, so
 * each entry is opened without following a last symlink and changed only if its real
 * path is still under `dir` and (not a directory) it has no other name: a student
 * racing this with a symlink or a hard link cannot turn it on a file of the system.
 * Symlinks themselves are left alone (node_modules points into the installation).
 */
export async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  const root = await fs.promises.realpath(dir);
  const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
  const inside = (p: string) => p === root || p.startsWith(root + '/');
  const visit = async (p: string): Promise<boolean> => {
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(p, flags);
    } catch {
      return false; // a symlink, a socket, gone
    }
    try {
      const st = await fh.stat();
      if (!inside(await fs.promises.readlink(`/proc/self/fd/${fh.fd}`))) return false;
      if ((st.uid !== uid || st.gid !== gid) && (st.isDirectory() || st.nlink === 1)) await fh.chown(uid, gid);
      return st.isDirectory();
    } catch {
      return false;
    } finally {
      await fh.close();
    }
  };
  if (!(await visit(root))) return;
  const stack = [root];
  while (stack.length) {
    const d = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (!e.isSymbolicLink() && (await visit(p))) stack.push(p);
    }
  }
}
