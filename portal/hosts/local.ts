/**
 * The `local` LabHost: this machine is the lab host (the embedded default).
 *
 * - Workspace: <data>/workspaces/<user>/, a copy of the labs directory made on first
 *   use (labs added later are copied in on the next start; a student's edits are
 *   never overwritten). node_modules is not copied: it is symlinked to the labs'
 *   own, so lab apps find restify / dtrace-provider.
 * - Terminal: a private tmux server per data dir (`tmux -S <data>/tmux.sock`), one
 *   session per user (`tl-<user>`), so every browser tab, a reload and a portal
 *   restart all land in the same shell. Every open terminal rides ONE tmux
 *   control-mode client per portal (tmux-control.ts) — no process per terminal.
 *   TRACELAB_TMUX_ATTACH=client brings back the old way, a `tmux new -A` client in
 *   a node-pty per terminal (kept to compare the two in the benchmarks).
 * - exec: argv[0] === 'tracelab' means this installation's CLI; the whole process
 *   group is killed on timeout.
 */
import { lowPriority } from './priority';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as pty from 'node-pty';
import { INSTALL_ROOT } from '../../src/labs';
import { ExecOptions, ExecResult, LabHost, LabHostError, Progress, ShellStream, Track } from './types';
import { TmuxControl, q, tmuxRun } from './tmux-control';
import { copyFilter } from './generated';

export type AttachMode = 'control' | 'client';

/** How terminals reach tmux: one control-mode client for all (the default), or a tmux client per terminal. */
export function attachMode(): AttachMode {
  const v = process.env.TRACELAB_TMUX_ATTACH;
  if (v === undefined || v === '' || v === 'control') return 'control';
  if (v === 'client') return 'client';
  throw new LabHostError('HOST_INTERNAL', `TRACELAB_TMUX_ATTACH must be 'control' or 'client', not '${v}'`);
}

export interface LocalHostOptions {
  /** User id (keys the workspace and the tmux session). */
  user: string;
  dataDir: string;
  labsDir: string;
  /**
   * Class mode (local-user.ts): wrap the shell's argv (['bash', '--rcfile', RC, '-i'])
   * in a sandbox that runs it as the student's Unix user.
   */
  wrapShell?: (argv: string[]) => string[];
}

const USER_RE = /^[a-z0-9][a-z0-9_-]{0,40}$/;

/** Environment variables of the portal that must not leak into a student's shell. */
const STRIP_ENV = ['NODE_TEST_CONTEXT', 'NODE_OPTIONS', 'NODE_CHANNEL_FD', 'TMUX', 'TMUX_PANE'];

export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !STRIP_ENV.includes(k)) env[k] = v;
  return { ...env, ...extra };
}

const TMUX_CONF = `# Written by tracelab (portal/hosts/local.ts); regenerated on every start.
set -g status off
set -sg escape-time 0
set -g history-limit 50000
setw -g aggressive-resize on
set -g default-terminal "xterm-256color"
# Let scrolled-off lines reach the browser terminal's own scrollback (mouse wheel).
set -ga terminal-overrides ',xterm*:smcup@:rmcup@'
set -g set-titles off
`;

export class LocalHost implements LabHost {
  readonly kind = 'local';
  readonly track: Track = 'linux';
  readonly workspace: string;
  private readonly sock: string;
  private readonly conf: string;
  private readonly rcfile: string;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: LocalHostOptions) {
    if (!USER_RE.test(opts.user)) throw new LabHostError('HOST_INTERNAL', `bad user id '${opts.user}'`);
    this.workspace = path.join(opts.dataDir, 'workspaces', opts.user);
    this.sock = path.join(opts.dataDir, 'tmux.sock');
    this.conf = path.join(opts.dataDir, 'tmux.conf');
    this.rcfile = path.join(opts.dataDir, 'shellrc.bash');
  }

  get session(): string {
    return `tl-${this.opts.user}`;
  }

  /** The tmux command line for this data dir (tests use it to clean up). */
  tmuxArgs(...args: string[]): string[] {
    return ['-S', this.sock, '-f', this.conf, ...args];
  }

  async start(): Promise<void> {
    const which = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
    if (which.error || which.status !== 0) {
      throw new LabHostError('HOST_MISSING_TOOL', 'tmux is not installed on the lab host; install it with: apt-get install tmux');
    }
    fs.mkdirSync(this.opts.dataDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(this.conf, TMUX_CONF);
    fs.writeFileSync(this.rcfile, shellRc());
    this.syncWorkspace();
    this.started = true;
    this.stopped = false;
  }

  /**
   * Copy labs that are not in the workspace yet; never touch ones that are (the student's
   * edits). What a run in the labs directory generated (the labs' .gitignore patterns,
   * core dumps, pid files, perf maps: generated.ts) is not copied.
   */
  private syncWorkspace(): void {
    const src = this.opts.labsDir;
    if (!fs.existsSync(src)) throw new LabHostError('HOST_START_FAILED', `labs directory ${src} does not exist`);
    fs.mkdirSync(this.workspace, { recursive: true });
    const keep = copyFilter(src);
    for (const e of fs.readdirSync(src, { withFileTypes: true })) {
      if (e.name === 'node_modules' || !keep(path.join(src, e.name))) continue;
      const to = path.join(this.workspace, e.name);
      if (fs.existsSync(to)) continue;
      // Copied under a temporary name and renamed when whole: a copy cut short (a full
      // disk) must not look like a lab the student already has, or it stays half there.
      const part = path.join(this.workspace, `.${e.name}.copying`);
      fs.rmSync(part, { recursive: true, force: true });
      try {
        fs.cpSync(path.join(src, e.name), part, { recursive: true, filter: keep });
      } catch (err) {
        fs.rmSync(part, { recursive: true, force: true });
        throw err;
      }
      fs.renameSync(part, to);
    }
    const mods = path.join(src, 'node_modules');
    const link = path.join(this.workspace, 'node_modules');
    if (fs.existsSync(mods) && !fs.existsSync(link)) fs.symlinkSync(mods, link, 'dir');
  }

  async poll(): Promise<number | null> {
    return this.started && !this.stopped ? null : 0;
  }

  /** Kill this user's tmux session (the shell); idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (!fs.existsSync(this.sock)) return;
    // The session's windows are also linked into the control client's session, which
    // would keep them (and the shell) alive after a plain kill-session.
    const w = spawnSync('tmux', this.tmuxArgs('list-windows', '-t', `=${this.session}`, '-F', '#{window_id}'), { encoding: 'utf8' });
    for (const id of (w.stdout || '').split('\n').filter((l) => /^@\d+$/.test(l))) spawnSync('tmux', this.tmuxArgs('kill-window', '-t', id), { stdio: 'ignore' });
    spawnSync('tmux', this.tmuxArgs('kill-session', '-t', `=${this.session}`), { stdio: 'ignore' });
  }

  getState(): Record<string, unknown> {
    return { workspace: this.workspace, session: this.session };
  }

  loadState(_state: Record<string, unknown>): void {
    // Everything the local host needs is derived from its options; tmux keeps the shell.
  }

  async *progress(): AsyncIterable<Progress> {
    yield { percent: 100, message: 'local host ready' };
  }

  async openShell(size: { cols: number; rows: number; spectate?: boolean }): Promise<ShellStream> {
    if (!this.started) throw new LabHostError('HOST_NOT_STARTED', 'openShell() before start()');
    const shellArgv = ['bash', '--rcfile', this.rcfile, '-i'];
    const bin = path.join(INSTALL_ROOT, 'bin');
    const env = childEnv({ TERM: 'xterm-256color', LANG: process.env.LANG || 'C.UTF-8' });
    const shellEnv = [`PATH=${bin}:${env.PATH || '/usr/local/bin:/usr/bin:/bin'}`, `TRACELAB_WORKSPACE=${this.workspace}`, `TRACELAB_LABS=${this.opts.labsDir}`];
    if (attachMode() === 'control') return this.openControl(size, env, [...shellEnv.flatMap((e) => ['-e', e]), ...(this.opts.wrapShell ? this.opts.wrapShell(shellArgv) : shellArgv)]);
    // A spectator attaches to the existing session only, and ignore-size keeps its
    // window size from shrinking the student's screen.
    const args = size.spectate
      ? this.tmuxArgs('attach-session', '-t', this.session, '-f', 'ignore-size')
      : this.tmuxArgs(
        'new-session', '-A', '-s', this.session, '-c', this.workspace,
        ...shellEnv.flatMap((e) => ['-e', e]),
        ...(this.opts.wrapShell ? this.opts.wrapShell(shellArgv) : shellArgv),
      );
    let p: pty.IPty;
    try {
      p = pty.spawn('tmux', args, { name: 'xterm-256color', cols: size.cols, rows: size.rows, cwd: this.workspace, env, encoding: null } as pty.IPtyForkOptions);
    } catch (e) {
      throw new LabHostError('HOST_START_FAILED', `could not start tmux: ${(e as Error).message}`);
    }
    const tty = (p as unknown as { ptsName?: string }).ptsName;
    return {
      pid: p.pid,
      onData: (cb) => p.onData(cb as (d: any) => void),
      onExit: (cb) => p.onExit(cb),
      write: (d) => p.write(d),
      resize: (c, r) => {
        try {
          p.resize(c, r);
        } catch {
          // The PTY may already be gone (the tmux client exited); the exit event says so.
        }
      },
      pause: () => p.pause(),
      resume: () => p.resume(),
      // tmux redraws this client's whole screen (the client's tty is the PTY): what the page dropped is superseded.
      redraw: tty ? () => void tmuxRun(this.tmuxArgs('refresh-client', '-t', tty), env) : undefined,
      kill: () => {
        try {
          p.kill();
        } catch {
          // already gone
        }
      },
    };
  }

  /**
   * A terminal through the portal's tmux control client: find the session's pane
   * (creating the session, sized for this terminal, if there is none), then attach.
   */
  private async openControl(size: { cols: number; rows: number; spectate?: boolean }, env: Record<string, string>, newArgs: string[]): Promise<ShellStream> {
    const ctl = await TmuxControl.get({ tmuxArgs: this.tmuxArgs(), env });
    const FMT = '#{pane_id} #{window_id} #{pane_pid}';
    const parse = (text: string) => {
      const m = /^(%\d+) (@\d+) (\d+)$/m.exec(text);
      return m ? { pane: m[1], window: m[2], pid: Number(m[3]) } : null;
    };
    const find = async () => {
      const b = await ctl.command(`display-message -p -t ${q(`=${this.session}:`)} ${q(FMT)}`);
      return b.ok ? parse(b.lines.map((l) => l.toString()).join('\n')) : null;
    };
    let where = await find();
    if (!where && size.spectate) throw new LabHostError('HOST_START_FAILED', `${this.opts.user} has no terminal session yet`);
    if (!where) {
      const r = await tmuxRun(this.tmuxArgs('new-session', '-d', '-P', '-F', FMT, '-s', this.session, '-x', String(size.cols), '-y', String(size.rows), '-c', this.workspace, ...newArgs), env);
      where = parse(r.stdout) ?? (/duplicate session/.test(r.stderr) ? await find() : null);
      if (!where) throw new LabHostError('HOST_START_FAILED', `could not start the tmux session: ${r.stderr.trim() || `exit ${r.code}`}`);
    }
    return ctl.open(where.pane, where.window, where.pid, size);
  }

  exec(argv: string[], opts: ExecOptions): Promise<ExecResult> {
    if (!argv.length) return Promise.reject(new LabHostError('HOST_INTERNAL', 'exec() with an empty argv'));
    const resolved = argv[0] === 'tracelab' ? [process.execPath, path.join(INSTALL_ROOT, 'bin', 'tracelab'), ...argv.slice(1)] : argv;
    const [cmd, ...args] = opts.lowPriority ? lowPriority(resolved) : resolved;
    const max = opts.maxOutputBytes ?? 1024 * 1024;
    return new Promise((resolve) => {
      // TRACELAB_LABS: the labs this portal serves, so `tracelab check` judges against the same ones.
      const env = childEnv({ PATH: `${path.join(INSTALL_ROOT, 'bin')}:${process.env.PATH || '/usr/bin:/bin'}`, TRACELAB_WORKSPACE: this.workspace, TRACELAB_LABS: this.opts.labsDir, ...(opts.env || {}) });
      // detached: the command leads its own process group, so a timeout kills everything it started.
      const child = spawn(cmd, args, { cwd: opts.cwd ?? this.workspace, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], n: { stdout: 0, stderr: 0 }, cut: { stdout: false, stderr: false } };
      for (const which of ['stdout', 'stderr'] as const) {
        child[which].on('data', (b: Buffer) => {
          if (out.n[which] + b.length > max) {
            out.cut[which] = true;
            b = b.subarray(0, Math.max(0, max - out.n[which]));
          }
          out.n[which] += b.length;
          if (b.length) out[which].push(b);
        });
      }
      let timedOut = false;
      const killGroup = () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // group already gone
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, opts.timeoutMs);
      const text = (which: 'stdout' | 'stderr') => Buffer.concat(out[which]).toString('utf8') + (out.cut[which] ? `\n[tracelab: ${which} cut at ${max} bytes]\n` : '');
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ code: 127, signal: null, stdout: '', stderr: `${argv[0]}: ${e.message}\n` });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        // Whatever the command left running in its group goes with it.
        killGroup();
        resolve({ code, signal, stdout: text('stdout'), stderr: text('stderr'), timedOut });
      });
    });
  }
}

/** The shell's rc file: the user's own bashrc, then a clear prompt. */
function shellRc(): string {
  return `# Written by tracelab (portal/hosts/local.ts).
[ -f ~/.bashrc ] && . ~/.bashrc
# tmux -e sets these for the session; re-export so ~/.bashrc cannot drop them.
export TRACELAB_WORKSPACE TRACELAB_LABS PATH
PS1='\\[\\e[1;36m\\]tracelab\\[\\e[0m\\] \\[\\e[1;34m\\]\\W\\[\\e[0m\\]\\$ '
`;
}
