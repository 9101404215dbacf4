/**
 * Containment of the student's code during a check.
 *
 * A check runs the student's app, and the student's app may fork without end, fill the
 * disk, or start daemons that leave its process group (setsid). The process group kill
 * in proc.ts does not reach those; this module does. One Containment per check:
 *
 *  - cgroup (Linux, root, /sys/fs/cgroup writable): the app's processes go into a leaf
 *    cgroup `tracelab/<check>` with pids.max (and memory.max where the v2 memory
 *    controller is there), and the whole leaf is killed at the end — cgroup.kill where
 *    the kernel has it, else a kill loop over cgroup.procs that converges because
 *    pids.max stops the leaf from growing. Both layouts are handled: pure cgroup v2 at
 *    /sys/fs/cgroup, and the hybrid one (v1 controllers + v2 at /sys/fs/cgroup/unified,
 *    as on this project's CI machine: pids from v1, cgroup.kill from v2).
 *  - rlimits (always, through util-linux `prlimit`, which execs the command so its pid is
 *    the app's): RLIMIT_FSIZE, which binds root too, so one runaway write stops at
 *    APP_MAX_FILE_BYTES with EFBIG. RLIMIT_NPROC is not used: it does not bind root,
 *    which is who runs checks.
 *  - a marker in the environment (TRACELAB_CHECK=<id>) inherited by everything the app
 *    starts: the last sweep kills any process that carries it, with or without cgroups.
 *  - a disk watchdog: if free space on the judged directory's or the temp directory's
 *    file system falls by more than DISK_BUDGET_BYTES during the check, or below
 *    DISK_FLOOR_BYTES, the app is killed (many files, each under the rlimit, add up).
 *
 * Only the student's code is contained (see proc.ts for how it is recognised); tracers,
 * gcore and lldb run as the checker does, so a fork bomb cannot starve them.
 *
 * Class mode on one machine (portal/hosts/local-user.ts) adds who the code runs as:
 * the checker is root (tracing needs it), the student's code must not be. The portal
 * names the student's Unix user in TRACELAB_APP_USER (with TRACELAB_APP_WORKSPACE and
 * TRACELAB_APP_HIDE), and every contained process then starts as that user —
 * `setpriv --reuid --regid --clear-groups --no-new-privs`, no capabilities — in a
 * private mount namespace where the data dir (database, tmux socket, other students'
 * workspaces) is an empty tmpfs with only the student's own workspace bound back at
 * its path. The pid stays the app's (unshare without --fork, setpriv and prlimit all
 * exec), so tracers still attach to it; /tmp stays shared, so perf maps the app
 * writes are where bpftrace looks. See docs/class-mode.md for what this leaves open.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CheckEnvironmentError } from './types';

/** Tasks (threads count: a Node process has about a dozen) the app and its children may have. */
export const APP_PIDS_MAX = 128;
/**
 * Tasks the whole check may have (checker, tracers, and anything of the app that the
 * student-code rule in proc.ts missed): a safety net far above what a check needs.
 */
export const CHECK_PIDS_MAX = 1024;
/** Largest file the app may write (lab apps write a few MB; a 10 GB write stops here). */
export const APP_MAX_FILE_BYTES = 256 * 1024 * 1024;
/** Memory for the app's cgroup, where a v2 memory controller exists. */
export const APP_MEMORY_MAX_BYTES = 2 * 1024 * 1024 * 1024;
/**
 * What the judged directory may grow by during a check (lab apps write a few MB; cores
 * go to the checker's scratch dir, not here), and how many entries it may hold. Free
 * space is not compared with its value at the start: other students' checks share the
 * disk, and their cores would count against this one.
 */
export const DISK_BUDGET_BYTES = envMb('TRACELAB_LIMIT_DISK_MB', 1024);
export const DIR_MAX_ENTRIES = 20_000;
/** Below this much free space (judged dir's and temp file systems) the app is stopped whatever wrote it. */
export const DISK_FLOOR_BYTES = envMb('TRACELAB_LIMIT_DISK_FLOOR_MB', 512);
const DISK_POLL_MS = 200;

function envMb(name: string, dflt: number): number {
  const v = Number(process.env[name]);
  return (Number.isFinite(v) && v > 0 ? v : dflt) * 1024 * 1024;
}

export const MARKER_ENV = 'TRACELAB_CHECK';
const CGROUP_ROOT = process.env.TRACELAB_CGROUP_ROOT || '/sys/fs/cgroup';
const BASE = 'tracelab';

export type LimitKind = 'pids' | 'disk' | 'file-size' | 'memory' | 'escaped';

export interface LimitEvent {
  kind: LimitKind;
  message: string;
}

/** The environment that names the student's Unix user (set by LocalUserHost.exec, never by a student). */
export const APP_USER_ENV = 'TRACELAB_APP_USER';
/** The student's workspace: the only part of the hidden directory the app sees. */
export const APP_WORKSPACE_ENV = 'TRACELAB_APP_WORKSPACE';
/** The directory hidden from the app (the portal's data dir). */
export const APP_HIDE_ENV = 'TRACELAB_APP_HIDE';

/** Who the student's code runs as during a check, and what it may see. */
export interface AppUser {
  name: string;
  uid: number;
  gid: number;
  /** Real path of the student's workspace (the app's HOME). */
  workspace: string;
  /** Real path of the directory replaced by an empty tmpfs in the app's mount namespace; null: nothing hidden. */
  hide: string | null;
  setpriv: string;
  unshare: string | null;
}

/** uid and gid of `name` from /etc/passwd (useradd writes there), or null. */
export function passwdIds(name: string, passwd = '/etc/passwd'): { uid: number; gid: number } | null {
  const text = readable(passwd) ?? '';
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4 && /^\d+$/.test(f[2]) && /^\d+$/.test(f[3])) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}

function tool(name: string): string | null {
  for (const d of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) if (fs.existsSync(path.join(d, name))) return path.join(d, name);
  return null;
}

function within(parent: string, p: string): boolean {
  const r = path.relative(parent, p);
  return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
}

/**
 * The app user the environment asks for, checked; null when none is asked for. Fails
 * closed: asked for but not possible (not root, no such user, uid 0, a missing tool, the
 * judged dir outside the workspace) is a CheckEnvironmentError, never a check run as root.
 */
export function appUserFromEnv(dir: string, env: NodeJS.ProcessEnv = process.env): AppUser | null {
  const name = env[APP_USER_ENV];
  if (!name) return null;
  const fail = (why: string, fix: string): never => {
    throw new CheckEnvironmentError(`the check must run your app as ${name}, but ${why}`, fix);
  };
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name)) fail('that is not a Unix user name', `unset ${APP_USER_ENV} or name the student's Unix user`);
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) fail('the checker is not root and cannot switch users', 'run the check as root (the portal does)');
  const ids = passwdIds(name);
  if (!ids) fail('there is no such Unix user', 'restart the student\'s lab host (it creates the user)');
  if (ids!.uid === 0 || ids!.gid === 0) fail('that user is root', 'give each student their own unprivileged Unix user');
  const setpriv = tool('setpriv');
  if (!setpriv) fail('setpriv is not installed', 'apt-get install util-linux');
  const realOr = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return fail(`${p} does not exist`, 'restart the student\'s lab host');
    }
  };
  const ws = env[APP_WORKSPACE_ENV];
  if (!ws || !path.isAbsolute(ws)) fail(`${APP_WORKSPACE_ENV} does not name the workspace`, 'run the check through the portal');
  const workspace = realOr(ws!);
  if (!within(workspace, realOr(dir))) fail(`the judged directory ${dir} is not inside the student's workspace ${workspace}`, 'check a directory of the student\'s own workspace');
  let hide: string | null = null;
  let unshare: string | null = null;
  if (env[APP_HIDE_ENV]) {
    hide = realOr(env[APP_HIDE_ENV]!);
    if (hide === '/' || !within(hide, workspace) || hide === workspace) fail(`${APP_HIDE_ENV} (${hide}) must be a directory above the workspace`, 'run the check through the portal');
    unshare = tool('unshare');
    if (!unshare || !tool('mount')) fail('unshare or mount is not installed', 'apt-get install util-linux mount');
  }
  return { name: name!, uid: ids!.uid, gid: ids!.gid, workspace, hide, setpriv: setpriv!, unshare };
}

/** Single-quote for /bin/sh. */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Give the student back what the checker (root) created in their lab directory — an
 * old copy it laid out, a tmp/ it made — so the app, running as the student, can
 * replace it. Only root-owned entries are changed, each through a descriptor opened
 * without following a last symlink and checked to still be inside `dir` and to have
 * no other name (nlink 1 for non-directories): a student who swaps a path for a
 * symlink or a hard link cannot make this chown anything of the system's.
 */
export function handBack(dir: string, uid: number, gid: number, max = DIR_MAX_ENTRIES): number {
  const root = fs.realpathSync(dir);
  const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
  let changed = 0;
  /** chown `p` if it is root's and safe to; true when it is a directory to walk. */
  const visit = (p: string): boolean => {
    let fd: number;
    try {
      fd = fs.openSync(p, flags);
    } catch {
      return false; // a symlink, a socket, gone
    }
    try {
      const st = fs.fstatSync(fd);
      const real = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (!within(root, real)) return false;
      if (st.uid === 0 && (st.isDirectory() || st.nlink === 1)) {
        fs.fchownSync(fd, uid, gid);
        changed++;
      }
      return st.isDirectory();
    } catch {
      return false; // removed or replaced while we looked: left as it is
    } finally {
      fs.closeSync(fd);
    }
  };
  let seen = 0;
  visit(root);
  const stack = [root];
  while (stack.length) {
    const d = stack.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (++seen > max) return changed;
      const p = path.join(d, e.name);
      if (!e.isSymbolicLink() && visit(p)) stack.push(p);
    }
  }
  return changed;
}

/** One cgroup directory in one hierarchy, with what it can do. */
interface Leaf {
  dir: string;
  pids: boolean;
  kill: boolean;
  memory: boolean;
}

/** What this machine offers, measured once per process. */
export interface ContainmentSupport {
  cgroup: 'v2' | 'hybrid' | null;
  pids: boolean;
  kill: boolean;
  memory: boolean;
  prlimit: string | null;
  why: string[];
}

let support: ContainmentSupport | null = null;

function readable(f: string): string | null {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return null;
  }
}

function findPrlimit(): string | null {
  for (const p of ['/usr/bin/prlimit', '/bin/prlimit']) if (fs.existsSync(p)) return p;
  return null;
}

/** The hierarchies a check's leaf is created in (base dirs, created on demand). */
interface Hierarchy {
  /** Where it is mounted, and tracelab's directory in it. */
  mount: string;
  base: string;
  pids: boolean;
  kill: boolean;
  memory: boolean;
  v2: boolean;
}

function hierarchies(): Hierarchy[] {
  const out: Hierarchy[] = [];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (process.platform !== 'linux' || !isRoot) return out;
  const v2ctl = readable(path.join(CGROUP_ROOT, 'cgroup.controllers'));
  if (v2ctl !== null) {
    const ctl = v2ctl.trim().split(/\s+/);
    out.push({ mount: CGROUP_ROOT, base: path.join(CGROUP_ROOT, BASE), pids: ctl.includes('pids'), memory: ctl.includes('memory'), kill: true, v2: true });
    return out;
  }
  const unified = path.join(CGROUP_ROOT, 'unified');
  if (readable(path.join(unified, 'cgroup.controllers')) !== null) out.push({ mount: unified, base: path.join(unified, BASE), pids: false, memory: false, kill: true, v2: true });
  const v1pids = path.join(CGROUP_ROOT, 'pids');
  if (readable(path.join(v1pids, 'cgroup.procs')) !== null) out.push({ mount: v1pids, base: path.join(v1pids, BASE), pids: true, memory: false, kill: false, v2: false });
  return out;
}

/** Create a base dir and, on v2, let it hand pids/memory down to its leaves. */
function prepareBase(h: { base: string; pids: boolean; memory: boolean; v2: boolean }): { pids: boolean; memory: boolean } {
  fs.mkdirSync(h.base, { recursive: true });
  let { pids, memory } = h;
  if (h.v2 && (pids || memory)) {
    const want = [pids ? '+pids' : '', memory ? '+memory' : ''].filter(Boolean).join(' ');
    // The root's subtree_control usually has them already; the base has no processes of its own, so it may enable them.
    for (const dir of [path.dirname(h.base), h.base]) {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), want);
      } catch {
        const have = readable(path.join(dir, 'cgroup.subtree_control')) || '';
        pids = pids && /\bpids\b/.test(have);
        memory = memory && /\bmemory\b/.test(have);
      }
    }
  }
  return { pids, memory };
}

export function containmentSupport(): ContainmentSupport {
  if (support) return support;
  const why: string[] = [];
  const hs = hierarchies();
  let pids = false;
  let kill = false;
  let memory = false;
  for (const h of hs) {
    try {
      const r = prepareBase(h);
      // Prove a leaf can be made and removed before relying on it.
      const probe = path.join(h.base, `probe-${process.pid}`);
      fs.mkdirSync(probe);
      const canKill = h.kill && fs.existsSync(path.join(probe, 'cgroup.kill'));
      fs.rmdirSync(probe);
      pids ||= r.pids;
      memory ||= r.memory;
      kill ||= canKill;
    } catch (e) {
      why.push(`${h.base}: ${(e as Error).message}`);
    }
  }
  if (!hs.length) why.push(process.platform !== 'linux' ? 'not Linux' : 'not root, or no cgroup file system at ' + CGROUP_ROOT);
  const cgroup = pids || kill ? (readable(path.join(CGROUP_ROOT, 'cgroup.controllers')) !== null ? 'v2' : 'hybrid') : null;
  const prlimit = findPrlimit();
  if (!prlimit) why.push('prlimit (util-linux) not found: no file-size limit');
  support = { cgroup, pids, kill, memory, prlimit, why };
  return support;
}

/** This process's cgroup directory in a hierarchy (from /proc/self/cgroup). */
function ownCgroup(h: Hierarchy): string | null {
  const lines = (readable('/proc/self/cgroup') || '').split('\n');
  const line = h.v2 ? lines.find((l) => l.startsWith('0::')) : lines.find((l) => l.split(':')[1]?.split(',').includes('pids'));
  if (!line) return null;
  return path.join(h.mount, line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1));
}

function enter(dir: string, pid: number): boolean {
  try {
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
    return true;
  } catch {
    return false;
  }
}

/** Pids in a cgroup dir and all below it. */
function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    const procs = readable(path.join(d, 'cgroup.procs'));
    if (procs) for (const l of procs.split('\n')) if (l.trim()) out.push(Number(l));
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
  };
  walk(dir);
  return out;
}

function rmTree(dir: string): void {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) rmTree(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    // still busy (a task not reaped yet): the next sweep removes it
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Kill every task in the leaves; returns how many were still alive at the end (0 = all gone). */
function killLeaves(leaves: Leaf[]): number {
  for (const l of leaves) if (l.kill) {
    try {
      fs.writeFileSync(path.join(l.dir, 'cgroup.kill'), '1');
    } catch {
      // no such leaf any more
    }
  }
  // Without cgroup.kill (v1 only) — or while it takes effect — kill what is listed until nothing is.
  let left = 0;
  for (let round = 0; round < 100; round++) {
    const pids = [...new Set(leaves.flatMap((l) => cgroupPids(l.dir)))].filter((p) => p !== process.pid);
    left = pids.filter((p) => !isZombie(p)).length;
    if (!left) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    sleepSync(round < 10 ? 5 : 20);
  }
  return left;
}

function isZombie(pid: number): boolean {
  const s = readable(`/proc/${pid}/stat`);
  if (s === null) return true;
  return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3) === 'Z';
}

/** Pids (not ours) whose environment carries `MARKER_ENV=id`. */
export function markedPids(id: string): number[] {
  const needle = Buffer.from(`\0${MARKER_ENV}=${id}\0`);
  const first = Buffer.from(`${MARKER_ENV}=${id}\0`);
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    let env: Buffer;
    try {
      env = fs.readFileSync(`/proc/${d}/environ`);
    } catch {
      continue;
    }
    if (env.includes(needle) || env.subarray(0, first.length).equals(first)) out.push(Number(d));
  }
  return out;
}

/** Bytes allocated under `dir` (symlinks not followed), counting at most `max` entries. */
export function dirUsage(dir: string, max = DIR_MAX_ENTRIES): { bytes: number; entries: number; capped: boolean } {
  let bytes = 0;
  let entries = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      if (++entries > max) return { bytes, entries, capped: true };
      try {
        const st = fs.lstatSync(path.join(d, n));
        bytes += st.blocks * 512;
        if (st.isDirectory()) stack.push(path.join(d, n));
      } catch {
        // removed while we looked
      }
    }
  }
  return { bytes, entries, capped: false };
}

function freeBytes(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return null;
  }
}

/**
 * A check's containment. `wrap()` turns the argv of a process that runs the student's
 * code into one that enters the leaf and the rlimits first; `end()` kills everything
 * inside and says which limits were hit.
 */
export class Containment {
  readonly id: string;
  private leaves: Leaf[] = [];
  /**
   * The checker itself (and so the tracers it starts) sits in `<id>-ctl` during the
   * check, without limits: if the checker is SIGKILLed (a portal timeout kills only its
   * process group, and every tool it started leads its own), the next check's sweep
   * finds its tracers there and kills them. At a normal end everyone in it goes back.
   */
  private ctl: { dir: string; home: string }[] = [];
  private events: LimitEvent[] = [];
  private watch: NodeJS.Timeout | null = null;
  private ended = false;
  readonly support: ContainmentSupport;
  /** Class mode: the student's Unix user the code runs as (null: as the checker). */
  readonly appUser: AppUser | null;
  private readonly scratch: string | null;

  constructor(
    /** The judged directory: the student's code lives here. */
    readonly dir: string,
    opts: { scratch?: string; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.id = `c${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    // First, so a check that must not run the app as root fails before it makes anything.
    this.appUser = appUserFromEnv(dir, opts.env ?? process.env);
    this.scratch = opts.scratch ? path.resolve(opts.scratch) : null;
    // The app may be started in the checker's scratch dir (cores, profiles): it may pass
    // through it (not list it); the dirs made for it there are given to it (appCwd).
    if (this.appUser && this.scratch) fs.chmodSync(this.scratch, 0o711);
    this.support = containmentSupport();
    sweepStale();
    for (const h of hierarchies()) {
      const dir = path.join(h.base, this.id);
      try {
        fs.mkdirSync(dir);
      } catch {
        continue;
      }
      const leaf: Leaf = { dir, pids: false, kill: fs.existsSync(path.join(dir, 'cgroup.kill')), memory: false };
      if (fs.existsSync(path.join(dir, 'pids.max'))) {
        try {
          fs.writeFileSync(path.join(dir, 'pids.max'), String(APP_PIDS_MAX));
          leaf.pids = true;
        } catch {
          /* no pids limit in this hierarchy */
        }
      }
      if (fs.existsSync(path.join(dir, 'memory.max'))) {
        try {
          fs.writeFileSync(path.join(dir, 'memory.max'), String(APP_MEMORY_MAX_BYTES));
          leaf.memory = true;
        } catch {
          /* no memory limit */
        }
        try {
          // Without this the limit only pushes the app into swap.
          fs.writeFileSync(path.join(dir, 'memory.swap.max'), '0');
        } catch {
          /* no swap accounting */
        }
      }
      this.leaves.push(leaf);
      const home = ownCgroup(h);
      const ctl = `${dir}-ctl`;
      if (home && fs.existsSync(home)) {
        try {
          fs.mkdirSync(ctl);
          try {
            fs.writeFileSync(path.join(ctl, 'pids.max'), String(CHECK_PIDS_MAX));
          } catch {
            /* this hierarchy has no pids controller */
          }
          if (enter(ctl, process.pid)) this.ctl.push({ dir: ctl, home });
          else fs.rmdirSync(ctl);
        } catch {
          /* the checker stays where it is */
        }
      }
    }
    this.startDiskWatch();
  }

  /** Does this containment put the student's processes in a cgroup with a process limit? */
  get limitsProcesses(): boolean {
    return this.leaves.some((l) => l.pids);
  }

  /**
   * argv for a process running the student's code: join the leaf, set rlimits, then exec
   * the command — in class mode as the student's Unix user, in a mount namespace without
   * the data dir (see the file comment). `cwd` is where it will start.
   */
  wrap(cmd: string, args: string[], cwd?: string): { cmd: string; args: string[]; env: Record<string, string> } {
    const env: Record<string, string> = { [MARKER_ENV]: this.id };
    if (this.ended) return { cmd: '/bin/sh', args: ['-c', 'echo "tracelab: the check is over; not starting $0" >&2; exit 125', cmd], env };
    const procs = this.leaves.map((l) => path.join(l.dir, 'cgroup.procs'));
    const limit = this.support.prlimit ? `${this.support.prlimit} --fsize=${APP_MAX_FILE_BYTES} -- ` : '';
    let run = `exec ${limit}"$0" "$@"`;
    const u = this.appUser;
    if (u) {
      this.prepareForApp(cwd);
      const drop = `exec ${shq(u.setpriv)} --reuid=${u.uid} --regid=${u.gid} --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- ${limit}"$0" "$@"`;
      Object.assign(env, { HOME: u.workspace, USER: u.name, LOGNAME: u.name });
      if (u.hide && u.unshare) {
        // In the new mount namespace (still root): the data dir becomes an empty tmpfs, the
        // workspace is bound back at its own path (from the cwd held before the tmpfs hid it),
        // and the app starts where it was asked to. Any failure stops here: never unhidden.
        const hide = [
          'unset TL_APP',
          'here=$(pwd -P) || exit 125',
          `W=${shq(u.workspace)}`,
          `{ cd "$W" && mount -t tmpfs -o mode=0711,size=1m,nosuid,nodev tracelab-hidden ${shq(u.hide)} && mkdir -p "$W" && mount --no-canonicalize --bind . "$W" && cd "$here"; } || { echo "tracelab: cannot hide the data directory from the app" >&2; exit 125; }`,
          drop,
        ].join('\n');
        env.TL_APP = hide;
        run = `exec ${shq(u.unshare)} --mount --propagation private -- /bin/sh -c "$TL_APP" "$0" "$@"`;
      } else {
        run = drop;
      }
    }
    // The shell enters the leaf itself ($$ is the shell, which then execs the command), so the
    // app is inside before it runs a single instruction: no window in which it could fork out.
    const join = procs.map((p, i) => `echo $$ > "$TL_CG${i}" || { echo "tracelab: cannot enter the check's cgroup" >&2; exit 125; }`).join('\n');
    procs.forEach((p, i) => (env[`TL_CG${i}`] = p));
    const unset = procs.map((_, i) => `TL_CG${i}`);
    return { cmd: '/bin/sh', args: ['-c', `${join}\n${unset.length ? `unset ${unset.join(' ')}\n` : ''}${run}`, cmd, ...args], env };
  }

  /**
   * Before the student's code starts as the student: what the checker (root) made in the
   * judged dir goes back to the student (handBack), and a cwd the checker made for the app
   * in its scratch dir becomes writable by the student's group (the app writes logs and heap
   * samples there) and sticky, so the app cannot remove or rename what the checker writes
   * there (a trace's output file).
   */
  private prepareForApp(cwd?: string): void {
    const u = this.appUser!;
    handBack(this.dir, u.uid, u.gid);
    if (!cwd || !this.scratch) return;
    const c = path.resolve(cwd);
    if (c === this.scratch || !within(this.scratch, c) || within(u.workspace, c)) return;
    for (let d = c; d !== this.scratch; d = path.dirname(d)) {
      const st = fs.lstatSync(d);
      if (!st.isDirectory() || st.uid !== 0) continue;
      if (d === c) {
        fs.chownSync(d, 0, u.gid);
        fs.chmodSync(d, 0o1770);
      } else fs.chmodSync(d, (st.mode & 0o7777) | 0o011);
    }
  }

  note(kind: LimitKind, message: string): void {
    if (!this.events.some((e) => e.kind === kind)) this.events.push({ kind, message });
  }

  /** Kill every process of the student's code now (the check goes on; the app is just gone). */
  killApp(): void {
    killLeaves(this.leaves);
    for (const p of markedPids(this.id)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  private startDiskWatch(): void {
    const base = dirUsage(this.dir);
    const fss = [...new Set([this.dir, os.tmpdir()])];
    this.watch = setInterval(() => {
      const u = dirUsage(this.dir);
      let why = '';
      if (u.capped && !base.capped) why = `your app created more than ${DIR_MAX_ENTRIES} files in ${this.dir}`;
      else if (u.bytes - base.bytes > DISK_BUDGET_BYTES) why = `your app wrote more than ${mb(DISK_BUDGET_BYTES)} into ${this.dir}`;
      else {
        for (const d of fss) {
          const free = freeBytes(d);
          if (free !== null && free < DISK_FLOOR_BYTES) why = `the disk holding ${d} is almost full (under ${mb(DISK_FLOOR_BYTES)} free)`;
        }
      }
      if (why) {
        this.note('disk', `${why}; it was stopped. Delete what it wrote before the next check.`);
        this.killApp();
      }
    }, DISK_POLL_MS);
    this.watch.unref();
  }

  /** A process of the student's app ended with this status: note a limit it shows. */
  exitStatus(output: string): void {
    if (/EFBIG|File too large/i.test(output)) {
      this.note('file-size', `your app tried to write a file bigger than ${mb(APP_MAX_FILE_BYTES)} and was refused (EFBIG)`);
    }
  }

  /** Kill everything of the student's code that is left, remove the leaves, and report the limits hit. */
  end(): LimitEvent[] {
    if (this.ended) return this.events;
    this.ended = true;
    if (this.watch) clearInterval(this.watch);
    for (const l of this.leaves) {
      if (!l.pids) continue;
      const ev = readable(path.join(l.dir, 'pids.events')) || '';
      const m = /max (\d+)/.exec(ev);
      if (m && Number(m[1]) > 0) this.note('pids', `your app tried to start more than ${APP_PIDS_MAX} processes/threads (${m[1]} refused): it was stopped`);
      const mem = readable(path.join(l.dir, 'memory.events')) || '';
      const oom = /oom_kill (\d+)/.exec(mem);
      if (l.memory && oom && Number(oom[1]) > 0) this.note('memory', `your app used more than ${gb(APP_MEMORY_MAX_BYTES)} of memory and was killed`);
    }
    // Anything alive now outlived the app's own process group: it left it (setsid, a daemon).
    const inLeaves = [...new Set(this.leaves.flatMap((l) => cgroupPids(l.dir)))].filter((p) => !isZombie(p));
    const marked = markedPids(this.id).filter((p) => !isZombie(p));
    const stray = new Set([...inLeaves, ...marked]);
    if (stray.size) this.note('escaped', `your app left ${stray.size} process(es) running after it was stopped (daemons or setsid); they were killed`);
    killLeaves(this.leaves);
    for (let round = 0; round < 50; round++) {
      const left = markedPids(this.id).filter((p) => !isZombie(p));
      if (!left.length) break;
      for (const p of left) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      sleepSync(10);
    }
    for (const l of this.leaves) rmTree(l.dir);
    for (const c of this.ctl) {
      for (let round = 0; round < 5; round++) {
        const pids = cgroupPids(c.dir);
        if (!pids.length) break;
        for (const p of pids) enter(c.home, p);
      }
      rmTree(c.dir);
    }
    return this.events;
  }
}

/**
 * Leaves of checks whose checker died without cleaning up (SIGKILLed by a portal
 * timeout): kill what is in them and remove them. The checker's pid is in the name.
 */
export function sweepStale(): void {
  for (const h of hierarchies()) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(h.base);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = /^c(\d+)-[0-9a-f]+(-ctl)?$/.exec(n);
      if (!m) continue;
      const owner = Number(m[1]);
      if (owner !== process.pid && readable(`/proc/${owner}/stat`) !== null && !isZombie(owner)) continue;
      const leaf: Leaf = { dir: path.join(h.base, n), pids: false, kill: fs.existsSync(path.join(h.base, n, 'cgroup.kill')), memory: false };
      if (owner === process.pid) continue;
      killLeaves([leaf]);
      rmTree(leaf.dir);
      // A task just killed (a bpftrace detaching its probes) may not be reaped yet, and
      // rmdir is EBUSY until it is: give it up to 2 s rather than leave the leaf behind.
      for (let i = 0; i < 100 && fs.existsSync(leaf.dir); i++) {
        sleepSync(20);
        rmTree(leaf.dir);
      }
    }
  }
}

function gb(n: number): string {
  return `${(n / 1024 ** 3).toFixed(n % 1024 ** 3 ? 1 : 0)} GB`;
}
function mb(n: number): string {
  return `${Math.round(n / 1024 ** 2)} MB`;
}
