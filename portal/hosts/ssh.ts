/**
 * The `ssh` LabHost: any machine reachable over SSH (a Linux VM, the illumos
 * lab box, a SmartOS zone), described by an inventory in OpenSSH config format.
 * `vagrant ssh-config > inventory` output works as is.
 *
 * Why the system `ssh` client (through node-pty for terminals) and not an SSH
 * library: the inventory IS an ssh_config, so the client reads every option an
 * admin may use (ProxyJump, IdentityFile, Match, ...) exactly as `ssh -F` does,
 * host keys are checked by OpenSSH's own known_hosts code, and it adds no
 * dependency. It costs one ssh process per terminal and per exec.
 *
 * Safety, whatever the inventory says:
 *  - host keys are checked against the portal's own known_hosts file
 *    (StrictHostKeyChecking=yes, BatchMode=yes): an unknown or changed key fails
 *    with a message saying how to add it; nothing is ever accepted silently.
 *    (`vagrant ssh-config` says StrictHostKeyChecking no: overridden here.)
 *  - the private key stays in the file the inventory names: it is read only by
 *    ssh, never by the portal, and never appears in state or messages.
 *  - ConnectTimeout and ServerAliveInterval bound every connection, and each
 *    call has its own timer on top: a dead host is reported (HOST_UNREACHABLE),
 *    never waited on forever. A host that freezes mid-call (the TCP connection
 *    stays open, nothing answers) is noticed by ssh's keepalives (about
 *    3 x ServerAliveInterval), and during exec() also by a watchdog that logs in
 *    again every few seconds: keepalives are answered by the session's sshd even
 *    when the machine can no longer start a process, a fresh login is not.
 *
 * On the host: bash and tmux. The terminal is `tmux new -A` on a private tmux
 * socket (-L tracelab), so a closed tab, a dropped connection or a portal
 * restart all come back to the same shell; a dropped connection is re-attached
 * by the ShellStream itself.
 */
import { Listeners } from './listeners';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as pty from 'node-pty';
import { ProgressFeed } from './progress-feed';
import { ExecOptions, ExecResult, LabHost, LabHostError, HostErrorCode, Progress, ShellStream, Track } from './types';

export interface SshHostOptions {
  /** Portal user id: names the tmux session (tl-<user>). */
  user: string;
  /** The Host alias in the inventory. */
  host: string;
  /** OpenSSH config file (the inventory). */
  inventory: string;
  /** The portal's known_hosts: the only keys trusted for lab hosts. */
  knownHosts: string;
  track?: Track;
  /** Workspace on the host: absolute, or relative to the remote $HOME. Default "labs". */
  workspace?: string;
  /**
   * Copied to the workspace on start() when the workspace does not exist yet.
   * Default: the first of SshHost.installedLabs that exists on the host (the
   * vm/ box's /opt/tracelab/labs).
   */
  labsSource?: string;
  /** Where tracelab keeps its tmux.conf on the host: absolute or relative to $HOME. Default ".tracelab". */
  stateDir?: string;
  /** tmux -L socket name on the host. Default "tracelab". */
  tmuxSocket?: string;
  /** Directories put in front of PATH for exec and the shell (where `tracelab` lives, if not on PATH). */
  remotePath?: string[];
  /** Seconds: TCP connect + SSH banner. Default 10. */
  connectTimeoutSec?: number;
  /** Seconds between keepalives; the connection is dropped after 3 missed. Default 5. */
  serverAliveSec?: number;
  /** The ssh binary. Default "ssh". */
  sshBinary?: string;
  /** Milliseconds for start()'s one round trip, which may copy a workspace. Default 120000. */
  startTimeoutMs?: number;
  /** Seconds between exec()'s liveness logins while a command runs; 0 turns the watchdog off. Default 10. */
  watchdogSec?: number;
}

const USER_RE = /^[a-z0-9][a-z0-9_-]{0,40}$/;
const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/;

/** POSIX shell quoting for one word of a remote command line. */
export function shq(s: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A remote path for the shell: "~/x" and relative paths are under $HOME. */
function remotePathExpr(p: string): string {
  if (p.startsWith('/')) return shq(p);
  return `"$HOME"/${shq(p.replace(/^~\/?/, ''))}`;
}

/**
 * Runs argv in its own process group (bash job control), and kills that group
 * when ssh's stdin closes, i.e. when the portal kills the ssh client on timeout
 * or the connection drops. Without it a remote checker outlives its timeout.
 */
const EXEC_WRAPPER = [
  // bash reports job status ("[1]+ Killed ...") on its stderr: keep that out of the command's
  'exec 4>&2 2>/dev/null',
  'set -m',
  '"$@" </dev/null 2>&4 4>&- &',
  'pid=$!',
  '( cat >/dev/null; kill -KILL -- -"$pid" ) >/dev/null 2>&1 <&3 &',
  'wd=$!',
  'wait "$pid"; rc=$?',
  // the watchdog first (its group: subshell and cat), then whatever the command left behind
  'kill -KILL -- -"$wd" 2>/dev/null',
  'kill -KILL -- -"$pid" 2>/dev/null',
  // ssh exits 255 when the connection dies: say when 255 is the command's own
  `[ "$rc" -ne 255 ] || printf '\\nTL_EXIT_255\\n' >&4`,
  'exit $rc',
].join('\n');

const TMUX_CONF = `# Written by tracelab (portal/hosts/ssh.ts) on every start.
set -g status off
set -sg escape-time 0
set -g history-limit 50000
setw -g aggressive-resize on
set -g default-terminal "xterm-256color"
set -ga terminal-overrides ',xterm*:smcup@:rmcup@'
set -g set-titles off
`;

/** What an ssh failure (exit 255) means, from its stderr; null when it is not ssh's own. */
export function classifySshFailure(stderr: string, host: string, knownHosts: string): { code: HostErrorCode; message: string } | null {
  const s = stderr;
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No (ED25519|ECDSA|RSA)? ?host key is known/i.test(s)) {
    return {
      code: 'HOST_UNREACHABLE',
      message: `the host key of ${host} is not trusted: it is not in ${knownHosts}, or it changed. Check its fingerprint, then add it (ssh-keyscan -p PORT HOSTNAME >> ${knownHosts}); keys are never accepted silently`,
    };
  }
  if (/Permission denied|Too many authentication failures/i.test(s)) {
    return { code: 'HOST_UNREACHABLE', message: `${host} refused the portal's key (check User and IdentityFile in the inventory)` };
  }
  const m = /(Connection refused|Connection timed out|Operation timed out|No route to host|Network is unreachable|Could not resolve hostname[^\n]*|Connection closed by[^\n]*|Connection reset[^\n]*|Timeout, server[^\n]*not responding|banner exchange[^\n]*|kex_exchange_identification[^\n]*|Broken pipe|Bad owner or permissions[^\n]*|Can't open user config file[^\n]*)/i.exec(s);
  if (m) return { code: 'HOST_UNREACHABLE', message: `${host}: ${m[1].trim()}` };
  return null;
}

export class SshHost implements LabHost {
  /**
   * Where a lab host has tracelab's labs installed, tried in order when no
   * labsSource is given (`tracelab serve --host-backend ssh` gives none):
   * vm/scripts/50-tracelab.sh installs them at /opt/tracelab/labs.
   */
  static installedLabs: string[] = ['/opt/tracelab/labs'];
  readonly kind: string = 'ssh';
  workspace: string;
  /** Given in the options, or learnt at start() from the host's `uname -s` (SunOS → illumos). */
  private trackValue: Track;
  private readonly trackGiven: boolean;
  private started = false;
  private readonly feed = new ProgressFeed();
  private readonly o: Required<Omit<SshHostOptions, 'labsSource' | 'track'>> & Pick<SshHostOptions, 'labsSource'>;

  constructor(opts: SshHostOptions) {
    if (!USER_RE.test(opts.user)) throw new LabHostError('HOST_INTERNAL', `bad user id '${opts.user}'`);
    if (!HOST_RE.test(opts.host)) throw new LabHostError('HOST_INTERNAL', `bad host alias '${opts.host}'`);
    this.trackValue = opts.track ?? 'linux';
    this.trackGiven = opts.track !== undefined;
    this.o = {
      workspace: 'labs',
      stateDir: '.tracelab',
      tmuxSocket: 'tracelab',
      remotePath: [],
      connectTimeoutSec: 10,
      serverAliveSec: 5,
      sshBinary: 'ssh',
      startTimeoutMs: 120_000,
      watchdogSec: 10,
      ...opts,
    };
    this.workspace = this.o.workspace;
  }

  get session(): string {
    return `tl-${this.o.user}`;
  }

  get track(): Track {
    return this.trackValue;
  }

  get host(): string {
    return this.o.host;
  }

  /** How long a terminal connection must last to count as established (longer than a failed connect). */
  get settleMs(): number {
    return (this.o.connectTimeoutSec + 5) * 1000;
  }

  /** ssh's options, command line first so they win over the inventory's. */
  sshArgs(extra: string[] = []): string[] {
    return [
      '-F', this.o.inventory,
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${this.o.knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'UpdateHostKeys=no',
      '-o', `ConnectTimeout=${this.o.connectTimeoutSec}`,
      '-o', `ServerAliveInterval=${this.o.serverAliveSec}`,
      '-o', 'ServerAliveCountMax=3',
      '-o', 'ForwardAgent=no',
      '-o', 'ForwardX11=no',
      '-o', 'ClearAllForwardings=yes',
      '-o', 'ControlMaster=no',
      '-o', 'LogLevel=ERROR',
      ...extra,
      '--', this.o.host,
    ];
  }

  /** PATH prefix for remote commands. */
  private pathPrefix(): string {
    return this.o.remotePath.length ? `PATH=${this.o.remotePath.map(shq).join(':')}:"$PATH"; export PATH; ` : '';
  }

  /** Wall-clock budget for one ssh call that only has to connect and run something quick. */
  private get quickTimeoutMs(): number {
    return (this.o.connectTimeoutSec + 3 * this.o.serverAliveSec + 5) * 1000;
  }

  /** How long ssh keepalives take to give up on a silent host, for messages. */
  private get keepaliveSec(): number {
    return 3 * this.o.serverAliveSec;
  }

  /**
   * Run a remote shell snippet (trusted: built by this file) and collect its output.
   * `onSpawn` gets a kill function (the exec watchdog uses it).
   */
  private runRemote(script: string, timeoutMs: number, stdinOpen = false, onSpawn?: (kill: () => void) => void): Promise<ExecResult> {
    return new Promise((resolve) => {
      const child = spawn(this.o.sshBinary, [...this.sshArgs(), script], { stdio: ['pipe', 'pipe', 'pipe'] });
      if (onSpawn) onSpawn(() => child.kill('SIGKILL'));
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let n = 0;
      const cap = 4 * 1024 * 1024;
      child.stdout.on('data', (b: Buffer) => {
        if ((n += b.length) <= cap) out.push(b);
      });
      // The end of stderr is kept even past the cap: exec's TL_EXIT_255 marker is there.
      let errTail = Buffer.alloc(0);
      child.stderr.on('data', (b: Buffer) => {
        if ((n += b.length) <= cap) err.push(b);
        else errTail = Buffer.concat([errTail, b]).subarray(-64);
      });
      if (!stdinOpen) child.stdin.end();
      child.stdin.on('error', () => undefined);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ code: 127, signal: null, stdout: '', stderr: `${this.o.sshBinary}: ${e.message}\n` });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const tail = /\nTL_EXIT_255\n$/.test(errTail.toString('latin1')) ? '\nTL_EXIT_255\n' : '';
        resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') + tail, timedOut });
      });
    });
  }

  /**
   * A failed connection as a typed error; null when the remote side answered.
   * `own255`: whether exit 255 can be the remote command's own (exec of a
   * student's checker); this file's own scripts never exit 255, so for them it
   * is always ssh saying the connection died.
   */
  private connectionError(r: ExecResult, own255 = false): LabHostError | null {
    if (r.timedOut) return new LabHostError('HOST_UNREACHABLE', `host unreachable: ${this.o.host} did not finish in time (connect timeout ${this.o.connectTimeoutSec} s, keepalive ${this.o.serverAliveSec} s x 3)`);
    if (r.code === 127 && /ssh: /.test(r.stderr) && !r.stdout) return new LabHostError('HOST_INTERNAL', r.stderr.trim());
    if (r.code !== 255 || own255) return null;
    const c = classifySshFailure(r.stderr, this.o.host, this.o.knownHosts);
    if (c) return new LabHostError(c.code, c.message);
    // At LogLevel=ERROR ssh says nothing when its keepalives go unanswered: it just exits 255.
    return new LabHostError('HOST_UNREACHABLE', `host unreachable: lost the connection to ${this.o.host} (no answer for ${this.keepaliveSec} s)`);
  }

  async start(): Promise<void> {
    this.feed.reset();
    this.feed.push(5, `connecting to ${this.o.host}`);
    if (!fs.existsSync(this.o.inventory)) throw new LabHostError('HOST_INTERNAL', `inventory ${this.o.inventory} does not exist`);
    const ws = remotePathExpr(this.o.workspace);
    const state = remotePathExpr(this.o.stateDir);
    const sources = this.o.labsSource ? [this.o.labsSource] : SshHost.installedLabs;
    // One round trip: tools present, tmux.conf written, workspace there, its absolute path printed.
    const script = [
      this.pathPrefix(),
      'command -v bash >/dev/null || { echo "TL_MISSING bash"; exit 3; }',
      'command -v tmux >/dev/null || { echo "TL_MISSING tmux"; exit 3; }',
      `mkdir -p ${state} && printf %s ${shq(TMUX_CONF)} > ${state}/tmux.conf || exit 4`,
      // the first source that exists, copied only when there is no workspace yet
      sources.length
        ? `if [ ! -d ${ws} ]; then for s in ${sources.map(shq).join(' ')}; do if [ -d "$s" ]; then cp -R "$s" ${ws} && echo "TL_COPIED $s"; break; fi; done; fi`
        : ':',
      `[ -d ${ws} ] || { echo "TL_NOWS"; exit 5; }`,
      `cd ${ws} && echo "TL_WS $(pwd)" && echo "TL_OS $(uname -s)"`,
    ].join('\n');
    // ConnectTimeout bounds a dead host; this bounds a slow copy on a live one.
    const r = await this.runRemote(script, this.o.startTimeoutMs);
    const ce = this.connectionError(r);
    if (ce) throw ce;
    const missing = /TL_MISSING (\S+)/.exec(r.stdout);
    if (missing) throw new LabHostError('HOST_MISSING_TOOL', `${missing[1]} is not installed on ${this.o.host}`);
    if (/TL_NOWS/.test(r.stdout)) {
      throw new LabHostError(
        'HOST_START_FAILED',
        `no workspace ${this.o.workspace} on ${this.o.host} and nothing to copy it from (no ${sources.join(' or ')} there). ` +
          `A lab host needs the labs in the workspace (~/labs by default) or installed at ${sources.join(' or ')}, ` +
          'bash and tmux, and tracelab on its PATH for checks (the vm/ box has all of them: log in as student)',
      );
    }
    const copied = /TL_COPIED (.*)/.exec(r.stdout);
    if (copied) this.feed.push(90, `workspace copied from ${copied[1].trim()}`);
    const m = /TL_WS (\/.*)/.exec(r.stdout);
    if (r.code !== 0 || !m) throw new LabHostError('HOST_START_FAILED', `setting up ${this.o.host} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
    this.workspace = m[1].trim();
    if (!this.trackGiven && /TL_OS SunOS/.test(r.stdout)) this.trackValue = 'illumos';
    this.started = true;
    this.feed.push(100, `${this.o.host} ready`);
    this.feed.close();
  }

  /** Whether the host answers a fresh login within the quick budget. */
  private async alive(onSpawn?: (kill: () => void) => void): Promise<boolean> {
    const r = await this.runRemote('true', this.quickTimeoutMs, false, onSpawn);
    return r.code === 0;
  }

  async poll(): Promise<number | null> {
    if (!this.started) return 0;
    // Connect plus a moment: keepalives do not run before login, so a host that
    // froze after accepting the connection is only ended by this timer.
    const r = await this.runRemote('true', (this.o.connectTimeoutSec + 5) * 1000);
    if (r.code === 0) return null;
    // Unreachable or refusing: the host is gone as far as the portal can tell.
    return r.code ?? 255;
  }

  async stop(): Promise<void> {
    this.started = false;
    // Best effort and bounded: a host that is already gone is stopped.
    await this.runRemote(`tmux -L ${shq(this.o.tmuxSocket)} kill-session -t ${shq(this.session)} 2>/dev/null; true`, this.quickTimeoutMs);
  }

  getState(): Record<string, unknown> {
    // Names only: the inventory and known_hosts paths stay in the portal's config.
    return { host: this.o.host, workspace: this.workspace, session: this.session, started: this.started, track: this.trackValue };
  }

  loadState(state: Record<string, unknown>): void {
    if (typeof state.workspace === 'string' && state.workspace.startsWith('/')) this.workspace = state.workspace;
    // A restarted portal re-attaches: tmux kept the shell on the host.
    if (state.started === true) this.started = true;
    if (!this.trackGiven && (state.track === 'illumos' || state.track === 'linux')) this.trackValue = state.track;
  }

  progress(): AsyncIterable<Progress> {
    return this.feed.stream();
  }

  /**
   * The remote command of a terminal: attach to (or create) the student's tmux
   * session; a spectator only attaches (never creates it), and ignore-size keeps
   * its window from shrinking the student's screen, as on the local backend.
   */
  shellCommand(spectate = false): string {
    const t = `tmux -L ${shq(this.o.tmuxSocket)} -f ${remotePathExpr(this.o.stateDir)}/tmux.conf`;
    return [
      this.pathPrefix(),
      `export TRACELAB_WORKSPACE=${shq(this.workspace)}; `,
      spectate
        ? `exec ${t} attach-session -t ${shq(`=${this.session}`)} -f ignore-size`
        : `exec ${t} new-session -A -s ${shq(this.session)} -c ${shq(this.workspace)}`,
    ].join('');
  }

  async openShell(size: { cols: number; rows: number; spectate?: boolean }): Promise<ShellStream> {
    if (!this.started) throw new LabHostError('HOST_NOT_STARTED', 'openShell() before start()');
    if (size.spectate) {
      // Attach only: a student without a session yet is an error, not a new session.
      const r = await this.runRemote(`tmux -L ${shq(this.o.tmuxSocket)} has-session -t ${shq(`=${this.session}`)} 2>/dev/null && echo TL_HAS`, this.quickTimeoutMs);
      const ce = this.connectionError(r);
      if (ce) throw ce;
      if (!/TL_HAS/.test(r.stdout)) throw new LabHostError('HOST_START_FAILED', `${this.o.user} has no terminal session yet`);
    }
    return new ReattachingShell(this, { cols: size.cols, rows: size.rows }, size.spectate === true);
  }

  /** Spawn one ssh -tt client in a local PTY (used by ReattachingShell). */
  spawnTerminal(size: { cols: number; rows: number }, spectate = false): pty.IPty {
    const env: Record<string, string> = {};
    for (const k of ['PATH', 'HOME', 'LANG', 'USER', 'LOGNAME']) if (process.env[k]) env[k] = process.env[k]!;
    env.TERM = 'xterm-256color';
    return pty.spawn(this.o.sshBinary, [...this.sshArgs(['-tt']), this.shellCommand(spectate)], {
      name: 'xterm-256color',
      cols: size.cols,
      rows: size.rows,
      env,
      encoding: null,
    } as pty.IPtyForkOptions);
  }

  /**
   * runRemote for a command that may run long: every watchdogSec a fresh login
   * checks the host still answers; when it does not, the command's ssh is killed
   * and the result says `lost`. Rather one spare login per interval than a check
   * that waits its full timeout on a frozen machine.
   */
  private async watched(script: string, timeoutMs: number): Promise<ExecResult & { lost?: boolean }> {
    const every = this.o.watchdogSec * 1000;
    if (!(every > 0)) return this.runRemote(script, timeoutMs, true);
    let done = false;
    let lost = false;
    let killCmd: () => void = () => undefined;
    let killProbe: (() => void) | null = null;
    const timer = setInterval(() => {
      if (killProbe) return; // the last probe is still waiting for its answer
      void this.alive((k) => (killProbe = k)).then((ok) => {
        killProbe = null;
        if (!ok && !done) {
          lost = true;
          killCmd();
        }
      });
    }, every);
    try {
      const r = await this.runRemote(script, timeoutMs, true, (k) => (killCmd = k));
      return lost ? { ...r, timedOut: false, lost } : r;
    } finally {
      done = true;
      clearInterval(timer);
      if (killProbe) (killProbe as () => void)();
    }
  }

  async exec(argv: string[], opts: ExecOptions): Promise<ExecResult> {
    if (!argv.length) throw new LabHostError('HOST_INTERNAL', 'exec() with an empty argv');
    if (!this.started) throw new LabHostError('HOST_NOT_STARTED', 'exec() before start()');
    for (const k of Object.keys(opts.env || {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new LabHostError('HOST_INTERNAL', `bad environment variable name '${k}'`);
    }
    const envWords = Object.entries({ TRACELAB_WORKSPACE: this.workspace, ...(opts.env || {}) }).map(([k, v]) => shq(`${k}=${v}`));
    const cwd = opts.cwd ?? this.workspace;
    const script =
      this.pathPrefix() +
      `cd ${shq(cwd)} && exec 3<&0 env ${envWords.join(' ')} bash -c ${shq(EXEC_WRAPPER)} tl-exec ${argv.map(shq).join(' ')}`;
    const max = opts.maxOutputBytes ?? 1024 * 1024;
    const r = await this.watched(script, opts.timeoutMs);
    if (r.lost) throw new LabHostError('HOST_UNREACHABLE', `host unreachable: ${this.o.host} stopped answering new logins while the command ran (watchdog every ${this.o.watchdogSec} s)`);
    if (!r.timedOut) {
      const own255 = r.code === 255 && /\nTL_EXIT_255\n$/.test(r.stderr);
      r.stderr = r.stderr.replace(/\nTL_EXIT_255\n$/, '');
      const ce = this.connectionError(r, own255);
      if (ce) throw ce;
    }
    const cut = (s: string, which: string) => (Buffer.byteLength(s) > max ? Buffer.from(s).subarray(0, max).toString('utf8') + `\n[tracelab: ${which} cut at ${max} bytes]\n` : s);
    return { code: r.timedOut ? null : r.code, signal: r.timedOut ? 'SIGKILL' : r.signal, stdout: cut(r.stdout, 'stdout'), stderr: cut(r.stderr, 'stderr'), timedOut: r.timedOut };
  }
}

/**
 * A terminal over ssh that survives a dropped connection: when the ssh client
 * dies of a connection error (exit 255) rather than the session ending, it
 * reconnects and re-attaches to the same tmux session, telling the user so.
 * After `maxRetries` failed attempts in a row it gives up and reports exit.
 */
export class ReattachingShell implements ShellStream {
  private p: pty.IPty;
  private readonly data = new Listeners<Buffer | string>();
  private readonly exit = new Listeners<{ exitCode: number; signal?: number }>();
  private killed = false;
  private paused = false;
  private retries = 0;
  private timer: NodeJS.Timeout | null = null;
  /** How many times the connection was re-established (tests and logs read it). */
  reattached = 0;
  static maxRetries = 5;
  static retryDelayMs = 1000;

  constructor(private readonly host: SshHost, private size: { cols: number; rows: number }, private readonly spectate = false) {
    this.p = this.attach();
  }

  get pid(): number {
    return this.p.pid;
  }

  private attach(): pty.IPty {
    const p = this.host.spawnTerminal(this.size, this.spectate);
    const born = Date.now();
    p.onData((d: any) => this.data.emit(d));
    p.onExit((e) => {
      if (p !== this.p) return;
      if (this.killed) return this.emitExit(e);
      // A connection that lasted was a working one: its loss starts a fresh count.
      // (Not "it printed something": ssh prints its own errors, e.g. a banner
      // timeout, into the same terminal, and a frozen host would be retried forever.)
      if (Date.now() - born > this.host.settleMs) this.retries = 0;
      // 255: ssh's own failure (connection lost or refused). Anything else is the
      // session ending (the student typed exit): report that.
      if (e.exitCode === 255 && this.retries < ReattachingShell.maxRetries) {
        this.retries++;
        this.emitData(`\r\n[tracelab: connection to the lab host lost; reconnecting (${this.retries}/${ReattachingShell.maxRetries})...]\r\n`);
        this.timer = setTimeout(() => {
          this.timer = null;
          if (this.killed) return;
          this.p = this.attach();
          this.reattached++;
          if (this.paused) this.p.pause();
        }, ReattachingShell.retryDelayMs * this.retries);
        return;
      }
      if (e.exitCode === 255) this.emitData('\r\n[tracelab: the lab host cannot be reached; reload the page to try again]\r\n');
      this.emitExit(e);
    });
    if (this.paused) p.pause();
    return p;
  }

  private emitData(s: string): void {
    this.data.emit(Buffer.from(s));
  }

  private emitExit(e: { exitCode: number; signal?: number }): void {
    this.exit.emitLast(e);
  }

  onData(cb: (data: Buffer | string) => void): { dispose(): void } {
    return this.data.add(cb);
  }

  onExit(cb: (e: { exitCode: number; signal?: number }) => void): { dispose(): void } {
    return this.exit.add(cb);
  }

  write(data: string | Buffer): void {
    try {
      this.p.write(data as any);
    } catch {
      // between connections: input typed now is lost, as in any terminal
    }
  }

  resize(cols: number, rows: number): void {
    this.size = { cols, rows };
    try {
      this.p.resize(cols, rows);
    } catch {
      // the client is gone; the next attach uses the new size
    }
  }

  pause(): void {
    this.paused = true;
    this.p.pause();
  }

  resume(): void {
    this.paused = false;
    this.p.resume();
  }

  kill(): void {
    this.killed = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.emitExit({ exitCode: 0 });
    }
    try {
      this.p.kill();
    } catch {
      // already gone
    }
  }
}

/** Host aliases of an OpenSSH config file (no wildcards), in file order. */
export function inventoryHosts(text: string): string[] {
  const hosts: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*Host\s+(.+?)\s*$/i.exec(line);
    if (!m) continue;
    for (const h of m[1].split(/\s+/)) if (!/[*?!]/.test(h) && !hosts.includes(h)) hosts.push(h);
  }
  return hosts;
}

/** Which inventory host a user gets: named `user`, `student-<user>` or `tl-<user>`, or the only one. */
export function hostForUser(hosts: string[], user: string): string | undefined {
  for (const h of [user, `student-${user}`, `tl-${user}`]) if (hosts.includes(h)) return h;
  return hosts.length === 1 ? hosts[0] : undefined;
}

/** A whole number of seconds from an inventory's extras, when it is one. */
function secs(x: Record<string, unknown>, key: 'connectTimeoutSec' | 'serverAliveSec' | 'watchdogSec'): Partial<SshHostOptions> {
  const v = x[key];
  return typeof v === 'number' && Number.isInteger(v) && v >= (key === 'watchdogSec' ? 0 : 1) && v <= 3600 ? { [key]: v } : {};
}

/**
 * The registry's factory (portal/hosts/index.ts): the inventory comes from
 * `extra.inventory` (class mode) or `tracelab serve --inventory FILE`
 * (TRACELAB_INVENTORY); the host is `extra.host` or found by user name;
 * the portal's known_hosts is <data>/known_hosts unless `extra.knownHosts` says.
 */
export function createSshHost(o: { user: string; dataDir: string; extra?: Record<string, unknown> }): SshHost {
  const x = o.extra || {};
  const inventory = (x.inventory as string) || process.env.TRACELAB_INVENTORY;
  if (!inventory) throw new LabHostError('HOST_INTERNAL', 'the ssh backend needs an inventory: tracelab serve --host-backend ssh --inventory FILE');
  if (!fs.existsSync(inventory)) throw new LabHostError('HOST_INTERNAL', `inventory ${inventory} does not exist`);
  const hosts = inventoryHosts(fs.readFileSync(inventory, 'utf8'));
  const host = (x.host as string) || hostForUser(hosts, o.user);
  if (!host) throw new LabHostError('HOST_INTERNAL', `no host for user '${o.user}' in ${inventory} (hosts: ${hosts.join(', ') || 'none'}; name one ${o.user}, student-${o.user} or tl-${o.user})`);
  return new SshHost({
    user: o.user,
    host,
    inventory,
    knownHosts: (x.knownHosts as string) || `${o.dataDir}/known_hosts`,
    ...(x.track === 'illumos' || x.track === 'linux' ? { track: x.track } : {}),
    ...(typeof x.workspace === 'string' ? { workspace: x.workspace } : {}),
    ...(typeof x.labsSource === 'string' ? { labsSource: x.labsSource } : {}),
    ...(typeof x.stateDir === 'string' ? { stateDir: x.stateDir } : {}),
    ...(typeof x.tmuxSocket === 'string' ? { tmuxSocket: x.tmuxSocket } : {}),
    ...(Array.isArray(x.remotePath) && x.remotePath.every((d) => typeof d === 'string') ? { remotePath: x.remotePath as string[] } : {}),
    ...secs(x, 'connectTimeoutSec'),
    ...secs(x, 'serverAliveSec'),
    ...secs(x, 'watchdogSec'),
  });
}
