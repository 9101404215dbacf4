/**
 * LabHost: the machine a student's terminal and checks run on.
 *
 * Modelled on JupyterHub's Spawner. One backend per file in portal/hosts/
 * (local.ts, ssh.ts, vagrant.ts), all behind this interface, so the portal never
 * knows which kind of machine it is talking to.
 *
 * Lifecycle contract:
 *  - `start()` resolves only when a shell is really available on the host (the
 *    workspace exists, tmux can be started). It may take minutes for a VM; while it
 *    runs, `progress()` yields `{percent, message}` events. It rejects with a
 *    `LabHostError` whose `code` says whether the student's machine is at fault
 *    (shown to the user) or the portal is (a bug: crash loudly).
 *  - `poll()` resolves `null` while the host is up, or an exit code (number) once it
 *    is gone. It must never hang: remote backends bound it with a timeout and
 *    report an unreachable host as gone.
 *  - `stop()` releases the host (halts a VM, kills the tmux session); idempotent.
 *  - `getState()` / `loadState()` round-trip plain JSON, so a restarted portal can
 *    re-attach to every host it had without starting them again.
 *  - `openShell({cols, rows})` attaches a PTY to the student's persistent tmux
 *    session (created on first use). Several shells may be attached at once
 *    (an instructor spectating); closing one never kills the tmux session.
 *  - `exec(argv, {timeoutMs})` runs a command (a checker) on the host and resolves
 *    `{code, stdout, stderr}`; it kills the whole process tree on timeout and resolves
 *    with `timedOut: true` rather than rejecting.
 *
 * The client never names a command or a host: the portal decides both.
 */

export type Track = 'linux' | 'illumos';

export interface Progress {
  percent: number; // 0..100
  message: string;
}

/** A PTY attached to the student's tmux session. Mirrors the parts of node-pty we use. */
export interface ShellStream {
  readonly pid: number;
  onData(cb: (data: Buffer | string) => void): { dispose(): void };
  onExit(cb: (e: { exitCode: number; signal?: number }) => void): { dispose(): void };
  write(data: string | Buffer): void;
  resize(cols: number, rows: number): void;
  /** Flow control: stop reading from the PTY until resume(). */
  pause(): void;
  resume(): void;
  /** Detach this client (kills the attaching process, never the tmux session). */
  kill(): void;
  /**
   * Optional: output not yet delivered is superseded; deliver a redraw of the current
   * screen next (after any output already on its way). Without it the gateway cannot
   * let a page drop a backlog.
   */
  redraw?(): void;
}

export interface ExecOptions {
  timeoutMs: number;
  /** Extra environment for the command. */
  env?: Record<string, string>;
  /** Working directory on the host; default: the student's workspace. */
  cwd?: string;
  /** Cap on captured stdout/stderr bytes each; the rest is dropped (and noted). */
  maxOutputBytes?: number;
  /**
   * Run below the terminals (a check): a backend on the portal's own machine lowers the
   * command's CPU and I/O priority (portal/hosts/priority.ts); a remote one ignores it.
   */
  lowPriority?: boolean;
}

export interface ExecResult {
  code: number | null;
  signal?: string | null;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
}

export type HostErrorCode =
  | 'HOST_UNREACHABLE' // the student's host does not answer (show it, mark it dead)
  | 'HOST_START_FAILED' // the VM/box would not come up (show it)
  | 'HOST_NOT_STARTED' // used before start()
  | 'HOST_MISSING_TOOL' // tmux / bpftrace / ... missing on the host (show the fix)
  | 'HOST_INTERNAL'; // a bug in the portal: crash loudly

export class LabHostError extends Error {
  constructor(
    public readonly code: HostErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LabHostError';
  }
}

export interface LabHost {
  /** Backend name: 'local' | 'ssh' | 'vagrant'. */
  readonly kind: string;
  /** Which track of the labs this host runs (decides which blocks a page shows). */
  readonly track: Track;
  start(): Promise<void>;
  poll(): Promise<number | null>;
  stop(): Promise<void>;
  getState(): Record<string, unknown>;
  loadState(state: Record<string, unknown>): void;
  progress(): AsyncIterable<Progress>;
  /**
   * `spectate: true` (class mode, an instructor watching): attach to the student's
   * existing session without creating one or changing its size; the portal, not the
   * host, keeps a spectator's keystrokes out.
   */
  openShell(opts: { cols: number; rows: number; spectate?: boolean }): Promise<ShellStream>;
  exec(argv: string[], opts: ExecOptions): Promise<ExecResult>;
  /** Absolute path of the student's workspace on the host (a copy of labs/). */
  readonly workspace: string;
}
