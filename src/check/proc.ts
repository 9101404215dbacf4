/**
 * Process control for checkers: everything a check starts runs in its own process
 * group, with its output captured and capped, and is stopped — the whole group — when
 * the check ends, times out, or the CLI is interrupted. A student's app may hang, fork,
 * or print without end; none of that may outlive the check or hang it.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { CheckEnvironmentError } from './types';
import type { Containment } from './limits';

const DEFAULT_MAX_OUTPUT = 1024 * 1024;
const KILL_GRACE_MS = 2000;

export interface BoundedOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Cap per stream; the rest is dropped and `truncated` set. Default 1 MB. */
  maxOutputBytes?: number;
  input?: string;
  /** Runs the student's code: contain it (limits.ts). Default: decided by isStudentCode(). */
  untrusted?: boolean;
}

export interface BoundedResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
  durationMs: number;
}

export interface Spawned {
  pid: number;
  /** stdout and stderr so far, interleaved as they arrived, capped. */
  output(): string;
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** SIGTERM the group, SIGKILL it after a grace period; resolves once the leader is gone. */
  stop(): Promise<void>;
}

/** Captures a stream up to a cap, keeping the head (where the diagnosis usually is). */
class Capture {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly cap: number) {}
  push(b: Buffer): void {
    if (this.size >= this.cap) {
      this.truncated = true;
      return;
    }
    const room = this.cap - this.size;
    const part = b.length > room ? b.subarray(0, room) : b;
    if (part.length < b.length) this.truncated = true;
    this.chunks.push(part);
    this.size += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

const live = new Set<Spawned>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The running check's containment (run.ts sets it); null outside a check. */
let containment: Containment | null = null;

export function setContainment(c: Containment | null): void {
  containment = c;
}

/** Tools a checker runs as itself: never contained (a fork bomb must not starve them). */
const CHECKER_TOOLS = new Set(['bpftrace', 'perf', 'gcore', 'gdb', 'lldb', 'strace', 'pmap', 'mount', 'tmux']);

/**
 * Is this the student's code? Checkers start the app from the judged directory: with
 * its cwd inside it (`node file.js`, or a shell that execs it), or with a script path
 * inside it (`node DIR/app/x.js` from a scratch dir). That is the rule, so checkers
 * need not say it; the tracing tools above are exempt. A checker can force either way
 * with `untrusted`. (The checker's own leaf has a pids limit too, as a safety net for
 * an app this rule misses.)
 */
export function isStudentCode(cmd: string, args: string[], cwd: string | undefined, dir: string): boolean {
  if (CHECKER_TOOLS.has(path.basename(cmd))) return false;
  const inside = (p: string) => {
    const r = path.relative(dir, p);
    return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
  };
  const from = cwd ? path.resolve(cwd) : process.cwd();
  if (cwd && inside(from)) return true;
  return args.some((a) => !a.startsWith('-') && !a.includes('\n') && a.length < 4096 && inside(path.resolve(from, a)));
}

type StartOpts = { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; untrusted?: boolean };

function start(cmd: string, args: string[], opts: StartOpts): ChildProcess & { contained?: boolean } {
  const c = containment;
  const contain = !!c && (opts.untrusted ?? isStudentCode(cmd, args, opts.cwd, c.dir));
  let env = opts.env ?? process.env;
  if (contain) {
    const w = c!.wrap(cmd, args, opts.cwd);
    [cmd, args] = [w.cmd, w.args];
    env = { ...env, ...w.env };
  }
  const child: ChildProcess & { contained?: boolean } = spawn(cmd, args, {
    cwd: opts.cwd,
    env,
    // A new process group (setsid): the group id is the child's pid, so one kill reaches
    // every process it forks, however deep.
    detached: true,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (opts.input !== undefined && child.stdin) {
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input);
  }
  child.contained = contain;
  return child;
}

/** After a contained process ends: let the containment read the limits its output shows. */
function noteExit(child: { contained?: boolean }, output: () => string): void {
  if (child.contained && containment) containment.exitStatus(output());
}

/** Start a long-running process (an app under test, a tracer) in its own process group. */
export function spawnGroup(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; maxOutputBytes?: number; untrusted?: boolean } = {},
): Spawned {
  const child = start(cmd, args, opts);
  const cap = new Capture(opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  child.stdout!.on('data', (b: Buffer) => cap.push(b));
  child.stderr!.on('data', (b: Buffer) => cap.push(b));
  let spawnError: Error | null = null;
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.on('error', (e) => {
      spawnError = e;
      cap.push(Buffer.from(`${cmd}: ${e.message}\n`));
      resolve({ code: 127, signal: null });
    });
    child.on('exit', (code, signal) => {
      noteExit(child, () => cap.text());
      resolve({ code, signal });
    });
  });
  const pid = child.pid ?? -1;
  const s: Spawned = {
    pid,
    output: () => cap.text(),
    exited,
    stop: async () => {
      if (pid > 0) {
        killGroup(pid, 'SIGTERM');
        const leaderGone = exited.then(() => 'gone' as const);
        const r = await raceTimer(leaderGone, KILL_GRACE_MS, 'late' as const);
        // Children may outlive the leader: always finish the group off.
        if (r === 'late' || groupAlive(pid)) killGroup(pid, 'SIGKILL');
        await raceTimer(exited, KILL_GRACE_MS, undefined);
      }
      live.delete(s);
    },
  };
  if (spawnError || pid < 0) return s;
  live.add(s);
  exited.then(() => {
    // The leader exited; stragglers in its group are stopped too.
    if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
    live.delete(s);
  });
  return s;
}

/** Run to completion in its own process group; on timeout stop the whole group. Never rejects for a non-zero exit. */
export async function runBounded(cmd: string, args: string[], opts: BoundedOptions): Promise<BoundedResult> {
  const t0 = Date.now();
  const child = start(cmd, args, opts);
  const cap = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const out = new Capture(cap);
  const err = new Capture(cap);
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const pid = child.pid ?? -1;
  let timedOut = false;
  const result = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid > 0) {
        killGroup(pid, 'SIGTERM');
        setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS).unref();
      }
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      err.push(Buffer.from(`${cmd}: ${e.message}\n`));
      resolve({ code: 127, signal: null });
    });
    // 'close' waits for the pipes too, so the output is complete.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      noteExit(child, () => err.text() + out.text());
      resolve({ code, signal });
    });
  });
  if (pid > 0 && groupAlive(pid)) killGroup(pid, 'SIGKILL');
  return {
    ...result,
    stdout: out.text(),
    stderr: err.text(),
    timedOut,
    truncated: out.truncated || err.truncated,
    durationMs: Date.now() - t0,
  };
}

/**
 * Stop every process started through this module (the CLI calls this on exit and
 * signals), and everything the student's code started, even outside its group.
 */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((s) => s.stop()));
  containment?.end();
}

/** Resolve when `test(output)` holds; reject with a clear message on timeout or early exit. */
export function waitForOutput(p: Spawned, test: (out: string) => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearInterval(iv);
      clearTimeout(to);
      if (err) reject(err);
      else resolve();
    };
    const iv = setInterval(() => {
      if (test(p.output())) finish();
    }, 25);
    const to = setTimeout(() => {
      if (test(p.output())) return finish();
      finish(new Error(`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}; output so far:\n${tail(p.output())}`));
    }, timeoutMs);
    p.exited.then(({ code, signal }) => {
      // Give the last output a moment to arrive before judging.
      setTimeout(() => {
        if (test(p.output())) return finish();
        finish(new Error(`exited (${signal ?? 'code ' + code}) before ${what}; output:\n${tail(p.output())}`));
      }, 50);
    });
    if (test(p.output())) finish();
  });
}

export function tail(s: string, lines = 15): string {
  const all = s.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/**
 * `p`, or `fallback` after `ms` — whichever comes first. The timer is cleared as soon as
 * `p` settles, so a grace period never keeps the CLI's event loop alive after a check
 * (a plain Promise.race with a delay held every `tracelab check` open ~2 s longer).
 */
function raceTimer<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Is `tool` on PATH? */
export function which(tool: string): string | null {
  for (const dir of (process.env.PATH || '').split(':')) {
    if (!dir) continue;
    const p = `${dir}/${tool}`;
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

const TOOL_PACKAGE: Record<string, string> = {
  bpftrace: 'bpftrace',
  perf: 'linux-perf',
  gdb: 'gdb',
  gcore: 'gdb',
  lldb: 'lldb',
  strace: 'strace',
  pmap: 'procps',
  tmux: 'tmux',
};

/**
 * Throws CheckEnvironmentError naming the fix when this machine cannot trace:
 * not root, tracefs not mounted (mounted here if we can), or a tool is missing.
 */
export async function requireTracing(tools: string[]): Promise<void> {
  const missing = tools.filter((t) => !which(t));
  if (missing.length) {
    const pkgs = [...new Set(missing.map((t) => TOOL_PACKAGE[t] ?? t))];
    throw new CheckEnvironmentError(
      `this check needs ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed`,
      `apt-get install ${pkgs.join(' ')}   (or run ./setup.sh as root)`,
    );
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new CheckEnvironmentError(
      'tracing needs root on Linux (bpftrace and perf attach to other processes and the kernel)',
      'run the check as root: sudo tracelab check ...',
    );
  }
  if (tools.includes('bpftrace') && !fs.existsSync('/sys/kernel/tracing/events')) {
    const r = await runBounded('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], { timeoutMs: 5000 });
    if (r.code !== 0 || !fs.existsSync('/sys/kernel/tracing/events')) {
      throw new CheckEnvironmentError(
        `tracefs is not mounted and mounting it failed: ${r.stderr.trim() || 'code ' + r.code}`,
        'mount -t tracefs nodev /sys/kernel/tracing',
      );
    }
  }
}

/** Wait until a TCP port on 127.0.0.1 accepts connections. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
      s.setTimeout(500, () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listened on 127.0.0.1:${port} within ${(timeoutMs / 1000).toFixed(1)} s`);
    await delay(50);
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * bpftrace here prints "ERROR: ... couldn't set RLIMIT_MEMLOCK" on every run: the
 * kernel accounts BPF memory by cgroup, so the old rlimit is irrelevant and the
 * message harmless. Drop those lines so a student sees only what matters.
 */
export function cleanBpftraceStderr(s: string): string {
  return s
    .split('\n')
    .filter((l) => !/RLIMIT_MEMLOCK|setrlimit|memlock/i.test(l))
    .join('\n')
    .trim();
}
