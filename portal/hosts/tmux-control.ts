/**
 * One tmux control-mode client (`tmux -C`) per tmux server that carries every
 * browser terminal of the portal, instead of one `tmux attach` client process
 * (~0.5 MB) per open terminal.
 *
 * How one client sees every student's pane: a control client only receives
 * `%output` for panes whose window is linked into its own session (tmux 3.3a,
 * control.c: control_write_output). So the portal keeps a hidden session, MUX,
 * whose own window is a dead pane (remain-on-exit, no process), and links each
 * student's window into it (`link-window`). The student's session keeps the window
 * too, so `tracelab` tools and an old-style `tmux attach` still find it.
 *
 * Protocol (man tmux, CONTROL MODE), as used here:
 *  - one command per line, answered in order by one `%begin`…`%end|%error` block
 *    (a `;` chain would answer with a block per command and stop at the first
 *    error, so chains are never sent);
 *  - output: `%output %<pane> <data>` with bytes < 0x20 and `\` as `\ooo`, every
 *    other byte raw (so invalid UTF-8 passes untouched: stdout is read as bytes);
 *  - input: `send-keys -H -t %<pane> <hex> …`: literal bytes, no key translation;
 *  - size: the window is `window-size manual` and `resize-window` sets it, so the
 *    control client's own size never matters and a spectator never resizes;
 *  - a shell that ends closes its window: `%window-close` or (already unlinked from
 *    MUX by then) `%unlinked-window-close`;
 *  - the whole client ending (`%exit`, EOF, the tmux server killed) ends every stream.
 *
 * Flow control. tmux 3.3a can only pause a pane for a control client by
 * discarding its output (`refresh-client -A %p:pause`; `off` discards too), and the
 * portal must keep reading the control client or every pane stalls. So a paused
 * stream holds output in memory up to HOLD_MAX (a short pause loses nothing); past
 * that it drops what comes and, on resume, gets a redraw of the pane's current
 * screen instead (capture-pane + cursor and modes), which is what an attached tmux
 * client does after a burst. A pane whose every stream is dropping is paused in
 * tmux (no point parsing its output); `pause-after` makes tmux pause a pane the
 * portal has not read for PAUSE_AFTER_S rather than disconnect the client.
 * A new stream starts with the same redraw, so a reload or a portal restart shows
 * the screen as it was. A pane nobody shows is paused (its shell runs on, tmux just
 * stops sending its output here) and continued when a page opens it.
 */
import { spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import { LabHostError, ShellStream } from './types';
import { Listeners } from './listeners';

/** The hidden session every student window is linked into. Not a valid `tl-<user>` name. */
export const MUX_SESSION = '_tracelab';
/** Output held for one paused stream before it switches to "redraw on resume". */
const HOLD_MAX = 64 * 1024;
/**
 * Bytes per send-keys command. tmux 3.3a's time per command grows with the square
 * of its argument count (measured: 4096 hex bytes ≈ 1 s, 128 ≈ 3 ms), so hex goes
 * in small commands; text goes as one quoted string, which parses in linear time.
 */
const HEX_CHUNK = 64;
const TEXT_CHUNK = 1024;
/** tmux pauses a pane whose output the portal has not read for this long (instead of "too far behind"). */
const PAUSE_AFTER_S = 10;

export interface ControlConfig {
  /** argv prefix reaching the tmux server: ['-S', sock, '-f', conf]. */
  tmuxArgs: string[];
  env: Record<string, string>;
}

interface Block {
  ok: boolean;
  lines: Buffer[];
}

type Reply = (b: Block) => void;

/** Run one tmux command as its own process (session creation: argv, no quoting). */
export function tmuxRun(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn('tmux', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('error', (e) => resolve({ code: 127, stdout, stderr: stderr + e.message }));
    c.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The parent of a process, or null when it is gone (or /proc cannot say). */
function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * Control clients of MUX whose portal died (kill -9, OOM): tmux 3.3a keeps such a
 * client attached (it is still owed output it can no longer write), and a later
 * `kill-server` then wedges, the server waiting for the client and the client for the
 * server, with every shell left running. A client is an orphan when its parent is
 * gone, is init (1), or is no longer a node process (a subreaper adopted it); one
 * whose parent is a live node process may be another portal's, and is left alone.
 * Killing it (SIGKILL: it answers nothing else) lets the server drop it at once.
 */
async function dropOrphanedClients(cfg: ControlConfig): Promise<void> {
  const r = await tmuxRun([...cfg.tmuxArgs, 'list-clients', '-t', `=${MUX_SESSION}`, '-F', '#{client_pid} #{client_control_mode}'], cfg.env);
  if (r.code !== 0) return;
  for (const line of r.stdout.split('\n')) {
    const m = /^(\d+) 1$/.exec(line.trim());
    if (!m) continue;
    const pid = Number(m[1]);
    const ppid = parentOf(pid);
    if (ppid === null) continue; // not visible from here (another pid namespace): not ours to judge
    let parentIsNode = false;
    try {
      parentIsNode = ppid > 1 && /(^|\/)node(\0|$)/.test(fs.readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0')[0] + '\0');
    } catch {
      // the parent is gone
    }
    if (parentIsNode) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Single-quote an argument for tmux's command parser (no escapes inside '…'). */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(' ' + i.toString(16).padStart(2, '0'));

const OUTPUT = Buffer.from('%output %');
const EXT_OUTPUT = Buffer.from('%extended-output %');

/** `\ooo` → byte; everything else as it is. */
export function unescapeOutput(b: Buffer, start: number): Buffer {
  let bs = b.indexOf(0x5c, start);
  if (bs < 0) return b.subarray(start);
  const out = Buffer.allocUnsafe(b.length - start);
  let n = 0;
  let i = start;
  while (bs >= 0) {
    n += b.copy(out, n, i, bs);
    out[n++] = ((b[bs + 1] - 48) << 6) | ((b[bs + 2] - 48) << 3) | (b[bs + 3] - 48);
    i = bs + 4;
    bs = b.indexOf(0x5c, i);
  }
  n += b.copy(out, n, i);
  return out.subarray(0, n);
}

/** Length of the valid UTF-8 sequence (2–4 bytes) starting at i, or 0. */
function utf8Len(d: Buffer, i: number): number {
  const b = d[i];
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < d.length && d[i + k] >= lo && d[i + k] <= hi;
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) return cont(1, b === 0xe0 ? 0xa0 : 0x80, b === 0xed ? 0x9f : 0xbf) && cont(2) ? 3 : 0;
  if (b >= 0xf0 && b <= 0xf4) return cont(1, b === 0xf0 ? 0x90 : 0x80, b === 0xf4 ? 0x8f : 0xbf) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** Bytes of a text run at i: any ASCII byte but NUL, or a whole UTF-8 character (0: not text). */
function textLen(d: Buffer, i: number): number {
  const b = d[i];
  if (b < 0x80) return b === 0 ? 0 : 1;
  return utf8Len(d, i);
}

/**
 * ASCII byte → how it goes inside a tmux double-quoted string: octal for controls and
 * for what tmux's parser would expand there — " \ $, and ~ (a string starting with it
 * becomes $HOME: a typed `~` arrives alone and turned into the portal's /root).
 */
const QUOTED: string[] = [];
for (let b = 0; b < 0x80; b++) QUOTED.push(b < 0x20 || b === 0x7f || b === 0x22 || b === 0x5c || b === 0x24 || b === 0x7e ? '\\' + b.toString(8).padStart(3, '0') : String.fromCharCode(b));

/**
 * send-keys commands that type `data` into a pane byte for byte: runs of text as
 * `-l -- "<text>"` (tmux types each character as itself, control characters
 * included, measured for 0x01–0x7f; `--` so a leading '-' is not a flag), and
 * what a string cannot carry (NUL, bytes that are not UTF-8) as `-H` literal bytes.
 */
export function inputCommands(paneId: string, data: Buffer): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < data.length) {
    let j = i;
    let text = '';
    for (let n = textLen(data, j); n && j - i < TEXT_CHUNK; n = j < data.length ? textLen(data, j) : 0) {
      text += n === 1 ? QUOTED[data[j]] : data.toString('utf8', j, j + n);
      j += n;
    }
    if (j > i) {
      out.push(`send-keys -t ${paneId} -l -- "${text}"`);
      i = j;
      continue;
    }
    let hex = '';
    while (j < data.length && j - i < HEX_CHUNK && !textLen(data, j)) hex += HEX[data[j++]];
    out.push(`send-keys -H -t ${paneId}${hex}`);
    i = j;
  }
  return out;
}

class Pane {
  streams = new Set<ControlStream>();
  tmuxPaused = false;
  constructor(
    readonly id: string,
    readonly window: string,
  ) {}
}

export class TmuxControl {
  private static live = new Map<string, Promise<TmuxControl>>();

  /** The control client for this tmux server, started on first use (and again after one died). */
  static get(cfg: ControlConfig): Promise<TmuxControl> {
    const key = cfg.tmuxArgs.join('\0');
    let p = TmuxControl.live.get(key);
    if (!p) {
      p = TmuxControl.start(cfg);
      TmuxControl.live.set(key, p);
      p.then(
        (c) => c.onDead(() => TmuxControl.live.get(key) === p && TmuxControl.live.delete(key)),
        () => TmuxControl.live.delete(key),
      );
    }
    return p;
  }

  private static async start(cfg: ControlConfig): Promise<TmuxControl> {
    const has = await tmuxRun([...cfg.tmuxArgs, 'has-session', '-t', `=${MUX_SESSION}`], cfg.env);
    if (has.code !== 0) {
      // Its only pane is dead from the start: the session costs no process.
      const made = await tmuxRun([...cfg.tmuxArgs, 'new-session', '-d', '-s', MUX_SESSION, '-x', '80', '-y', '24', 'sleep 60', ';', 'set-option', '-w', '-t', `=${MUX_SESSION}:`, 'remain-on-exit', 'on', ';', 'respawn-pane', '-k', '-t', `=${MUX_SESSION}:`, 'true'], cfg.env);
      if (made.code !== 0 && !/duplicate session/.test(made.stderr)) throw new LabHostError('HOST_START_FAILED', `could not start tmux: ${made.stderr.trim()}`);
    }
    else await dropOrphanedClients(cfg);
    const c = new TmuxControl(cfg);
    await c.ready;
    return c;
  }

  private readonly child: ChildProcess;
  private readonly replies: Reply[] = [];
  private block: { head: string; lines: Buffer[] } | null = null;
  private rest: Buffer | null = null;
  private readonly panes = new Map<string, Pane>();
  private readonly linked = new Set<string>();
  private deadCbs: (() => void)[] = [];
  dead = false;
  readonly ready: Promise<void>;
  readonly pid: number;

  private constructor(private readonly cfg: ControlConfig) {
    this.child = spawn('tmux', [...cfg.tmuxArgs, '-C', 'attach-session', '-t', `=${MUX_SESSION}`], { env: cfg.env, stdio: ['pipe', 'pipe', 'ignore'] });
    this.pid = this.child.pid ?? 0;
    this.child.stdout!.on('data', (d: Buffer) => this.onBytes(d));
    this.child.stdin!.on('error', () => this.die());
    this.child.on('error', () => this.die());
    this.child.on('close', () => this.die());
    // The portal must be able to exit with this client still running (tmux then sees
    // EOF and the client ends; every shell stays in tmux for the next portal): the
    // client holds the event loop only while an answer or a stream is waiting (holdLoop).
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
    this.held = true; // as spawned: the process and its stdout hold the loop
    this.holdLoop();
    // The attach itself is answered with the first block.
    const attached = this.expect();
    this.ready = attached.then(async (b) => {
      if (!b.ok) throw new LabHostError('HOST_START_FAILED', `tmux control client: ${b.lines.join(' ')}`);
      this.send(`refresh-client -f pause-after=${PAUSE_AFTER_S}`);
      const w = await this.command(`list-windows -t =${MUX_SESSION} -F '#{window_id}'`);
      for (const l of w.lines) this.linked.add(l.toString().trim());
      // Shells linked in by an earlier portal: nobody watches them yet, so tmux need not send their output.
      const p = await this.command(`list-panes -s -t =${MUX_SESSION} -F '#{pane_id}'`);
      for (const l of p.lines) if (/^%\d+$/.test(l.toString().trim())) this.send(`refresh-client -A '${l.toString().trim()}:pause'`);
    });
    this.ready.catch(() => this.kill());
  }

  private expect(): Promise<Block> {
    return new Promise((resolve) => {
      this.replies.push(resolve);
      this.holdLoop();
    });
  }

  /** Send one command line; `cb` gets its block synchronously, in wire order ({ok:false} if the client dies first). */
  private push(line: string, cb: Reply): void {
    if (this.dead) return cb({ ok: false, lines: [Buffer.from('tmux control client is gone')] });
    this.replies.push(cb);
    this.child.stdin!.write(line + '\n');
    this.holdLoop();
  }

  private held = false;
  /** Keep the event loop alive (the process and its stdout) while an answer or a stream waits on this client. */
  holdLoop(): void {
    let want = this.replies.length > 0 && !this.dead;
    if (!want && !this.dead) for (const p of this.panes.values()) if (p.streams.size) want = true;
    if (want === this.held) return;
    this.held = want;
    const out = this.child.stdout as unknown as { ref?: () => void; unref?: () => void };
    if (want) {
      this.child.ref();
      out.ref?.();
    } else {
      this.child.unref();
      out.unref?.();
    }
  }

  command(line: string): Promise<Block> {
    return new Promise((resolve) => this.push(line, resolve));
  }

  /** A command whose answer nobody needs (input, resize, pause). */
  send(line: string): void {
    this.push(line, () => undefined);
  }

  onDead(cb: () => void): void {
    if (this.dead) cb();
    else this.deadCbs.push(cb);
  }

  /** Stop the client (tests; the tmux server and its sessions stay). */
  kill(): void {
    try {
      this.child.kill('SIGTERM');
    } catch {
      // already gone
    }
    this.die();
  }

  private die(): void {
    if (this.dead) return;
    this.dead = true;
    const replies = this.replies.splice(0);
    for (const r of replies) r({ ok: false, lines: [Buffer.from('tmux control client is gone')] });
    for (const pane of this.panes.values()) for (const s of pane.streams) s.exited(1);
    this.panes.clear();
    for (const cb of this.deadCbs.splice(0)) cb();
  }

  private onBytes(d: Buffer): void {
    let buf = this.rest ? Buffer.concat([this.rest, d]) : d;
    this.rest = null;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break;
      this.onLine(buf.subarray(start, nl));
      start = nl + 1;
    }
    if (start < buf.length) this.rest = Buffer.from(buf.subarray(start));
    buf = Buffer.alloc(0);
  }

  private onLine(line: Buffer): void {
    if (this.block) {
      // Only the %end/%error carrying the %begin's own time, number and flags closes it:
      // a captured screen line that merely looks like one does not.
      if (line[0] === 0x25) {
        const s = line.toString('latin1');
        const m = /^%(end|error) (.*)$/.exec(s);
        if (m && m[2] === this.block.head) {
          const b = { ok: m[1] === 'end', lines: this.block.lines };
          this.block = null;
          const r = this.replies.shift();
          if (r) r(b);
          if (!this.replies.length) this.holdLoop();
          return;
        }
      }
      this.block.lines.push(Buffer.from(line));
      return;
    }
    if (line.length > OUTPUT.length && line.subarray(0, OUTPUT.length).equals(OUTPUT)) return this.onOutput(line, OUTPUT.length, false);
    if (line.length > EXT_OUTPUT.length && line.subarray(0, EXT_OUTPUT.length).equals(EXT_OUTPUT)) return this.onOutput(line, EXT_OUTPUT.length, true);
    const s = line.toString('latin1');
    const sp = s.indexOf(' ');
    const tag = sp < 0 ? s : s.slice(0, sp);
    const arg = sp < 0 ? '' : s.slice(sp + 1);
    switch (tag) {
      case '%begin':
        this.block = { head: arg, lines: [] };
        break;
      case '%window-close':
      case '%unlinked-window-close':
        this.windowClosed(arg.trim());
        break;
      case '%pause': {
        const p = this.panes.get(arg.trim());
        if (p) {
          p.tmuxPaused = true;
          for (const st of p.streams) st.dropped();
          this.checkPause(p);
        }
        break;
      }
      case '%exit':
        // The server is going (killed, or our session is gone): the process exits next.
        this.die();
        break;
      default:
        break;
    }
  }

  private onOutput(line: Buffer, at: number, extended: boolean): void {
    const sp = line.indexOf(0x20, at);
    if (sp < 0) return;
    const pane = this.panes.get(line.toString('latin1', at - 1, sp));
    if (!pane) return;
    let dataAt = sp + 1;
    if (extended) {
      // %extended-output %p age ... : data
      const colon = line.indexOf(' : ', sp);
      if (colon < 0) return;
      dataAt = colon + 3;
    }
    const data = unescapeOutput(line, dataAt);
    for (const s of pane.streams) s.deliver(data);
  }

  private windowClosed(w: string): void {
    this.linked.delete(w);
    for (const [id, p] of this.panes) {
      if (p.window !== w) continue;
      this.panes.delete(id);
      for (const s of p.streams) s.exited(0);
    }
  }

  /** Pause the pane in tmux while nobody needs its bytes; continue it as soon as someone does. */
  checkPause(p: Pane): void {
    const wanted = [...p.streams].some((s) => s.wantsBytes());
    if (!wanted && !p.tmuxPaused && p.streams.size) {
      p.tmuxPaused = true;
      this.send(`refresh-client -A '${p.id}:pause'`);
    } else if (wanted && p.tmuxPaused) {
      p.tmuxPaused = false;
      this.send(`refresh-client -A '${p.id}:continue'`);
    }
  }

  /**
   * Attach a stream to a pane: link its window into MUX (once), then redraw its
   * current screen into the stream before any further output.
   */
  async open(paneId: string, windowId: string, panePid: number, opts: { cols: number; rows: number; spectate?: boolean }): Promise<ShellStream> {
    await this.ready;
    if (this.dead) throw new LabHostError('HOST_START_FAILED', 'tmux control client is gone');
    let pane = this.panes.get(paneId);
    if (!pane) {
      pane = new Pane(paneId, windowId);
      this.panes.set(paneId, pane);
      this.send(`refresh-client -A '${paneId}:continue'`);
    }
    const s = new ControlStream(this, pane, panePid, !!opts.spectate);
    pane.streams.add(s);
    this.holdLoop();
    if (!this.linked.has(windowId)) {
      this.linked.add(windowId);
      const l = await this.command(`link-window -d -s ${windowId} -t =${MUX_SESSION}:`);
      if (!l.ok) {
        this.linked.delete(windowId);
        s.detach();
        throw new LabHostError('HOST_START_FAILED', `tmux link-window: ${l.lines.join(' ')}`);
      }
      this.send(`set-option -w -t ${windowId} window-size manual`);
    }
    if (!opts.spectate) this.send(`resize-window -t ${windowId} -x ${opts.cols} -y ${opts.rows}`);
    s.sync();
    return s;
  }

  /**
   * The pane's screen, cursor and modes as bytes that draw it on a terminal (see
   * redraw()). `done` runs synchronously when the last answer is parsed, so the
   * caller can switch from "drop output" to "pass output" at exactly that point on
   * the wire: output tmux read before these commands ran is in the captured screen,
   * output after them comes after their answers.
   */
  snapshot(paneId: string, done: (bytes: Buffer | null) => void): void {
    const fmt = ['cursor_x', 'cursor_y', 'alternate_on', 'cursor_flag', 'keypad_cursor_flag', 'keypad_flag', 'mouse_standard_flag', 'mouse_button_flag', 'mouse_any_flag', 'mouse_sgr_flag', 'insert_flag', 'wrap_flag', 'scroll_region_upper', 'scroll_region_lower', 'pane_height'].map((f) => `#{${f}}`).join(' ');
    let state: Block | null = null;
    let screen: Block | null = null;
    this.push(`display-message -p -t ${paneId} '${fmt}'`, (b) => (state = b));
    this.push(`capture-pane -p -e -t ${paneId}`, (b) => (screen = b));
    this.push(`capture-pane -p -e -a -t ${paneId}`, (saved) => {
      const st = state as Block | null;
      const sc = screen as Block | null;
      if (!st || !sc || !st.ok || !sc.ok || !st.lines.length) return done(null);
      const v = st.lines[0].toString().trim().split(' ').map(Number);
      if (v.length < 15 || v.some((x) => !Number.isFinite(x))) return done(null);
      done(redraw(v, sc.lines, saved.ok ? saved.lines : null));
    });
  }

  write(paneId: string, data: Buffer): void {
    for (const line of inputCommands(paneId, data)) this.send(line);
  }

  /**
   * A stream was detached. When nobody shows the pane any more, its window stays
   * linked (the next page finds it at once) but tmux stops sending its output here
   * (paused: the shell keeps running; a new stream starts with a redraw anyway).
   * Not `off`/`on`: tmux 3.3a's `on` resets the pane's offset under output blocks
   * still queued for this client and the server dies ("not enough data", measured
   * after a portal restart during heavy output); `pause` drops those blocks first.
   */
  detached(p: Pane): void {
    if (!p.streams.size) {
      if (!p.tmuxPaused) this.send(`refresh-client -A '${p.id}:pause'`);
      p.tmuxPaused = false;
      if (this.panes.get(p.id) === p) this.panes.delete(p.id);
      this.holdLoop();
    } else this.checkPause(p);
  }
}

/**
 * Bytes that put a terminal into the state of a tmux pane: the normal screen (or,
 * under an alternate screen, the saved normal one and then the alternate one),
 * scroll region, cursor, and the input modes that change what keys send.
 * Attributes carry from one captured line to the next (capture-pane -e), so lines
 * are joined by cursor moves only.
 */
export function redraw(v: number[], screen: Buffer[], saved: Buffer[] | null): Buffer {
  const [cx, cy, alt, cursor, kcursor, kpad, mStd, mBtn, mAny, mSgr, insert, wrap, top, bottom, height] = v;
  const parts: (string | Buffer)[] = ['\x1b[?1049l\x1b[0m\x1b[r\x1b[H\x1b[2J'];
  const draw = (lines: Buffer[]) => {
    for (let i = 0; i < lines.length && i < height; i++) {
      if (!lines[i].length) continue;
      parts.push(`\x1b[${i + 1};1H`, lines[i]);
    }
    parts.push('\x1b[0m');
  };
  if (alt && saved) {
    draw(saved);
    parts.push('\x1b[?1049h\x1b[H\x1b[2J');
  }
  draw(screen);
  if (top !== 0 || bottom !== height - 1) parts.push(`\x1b[${top + 1};${bottom + 1}r`);
  parts.push(`\x1b[${cy + 1};${cx + 1}H`);
  // Steady cursor, as an attached tmux client leaves it (tmux sends ?12l on attach).
  parts.push(cursor ? '\x1b[?12l\x1b[?25h' : '\x1b[?12l\x1b[?25l');
  parts.push(kcursor ? '\x1b[?1h' : '\x1b[?1l');
  parts.push(kpad ? '\x1b=' : '\x1b>');
  parts.push(insert ? '\x1b[4h' : '\x1b[4l');
  parts.push(wrap ? '\x1b[?7h' : '\x1b[?7l');
  parts.push('\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l');
  if (mStd) parts.push('\x1b[?1000h');
  if (mBtn) parts.push('\x1b[?1002h');
  if (mAny) parts.push('\x1b[?1003h');
  if (mSgr) parts.push('\x1b[?1006h');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
}

/** One browser terminal (or spectator) on one pane. */
class ControlStream implements ShellStream {
  private readonly data = new Listeners<Buffer>();
  private readonly exit = new Listeners<{ exitCode: number; signal?: number }>();
  private paused = false;
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Output was dropped (paused too long, or tmux paused the pane): the next thing it gets is a redraw. */
  private stale = false;
  /** A redraw is on its way: output until it arrives is already in it. */
  private syncing = false;
  private done = false;

  constructor(
    private readonly ctl: TmuxControl,
    private readonly pane: Pane,
    readonly pid: number,
    private readonly spectate: boolean,
  ) {}

  /** False once it only needs a redraw: then tmux need not send the pane's output at all. */
  wantsBytes(): boolean {
    return !this.done && !this.stale;
  }

  deliver(d: Buffer): void {
    if (this.done || this.stale || this.syncing) return;
    if (!this.paused) return this.emit(d);
    this.held.push(d);
    this.heldBytes += d.length;
    if (this.heldBytes > HOLD_MAX) this.dropped();
  }

  /** From now on this stream needs a redraw, not the bytes it missed. */
  dropped(): void {
    if (this.done) return;
    this.held = [];
    this.heldBytes = 0;
    this.stale = true;
    // A snapshot on its way is taken again when it lands (sync()).
    if (this.syncing) return;
    if (this.paused) this.ctl.checkPause(this.pane);
    else this.sync();
  }

  /** The page dropped output it had not drawn (Ctrl-C in a burst): what it gets next is the pane's screen as it is now. */
  redraw(): void {
    this.dropped();
  }

  /** Replace whatever the terminal shows with the pane's current screen. */
  sync(): void {
    if (this.done) return;
    this.stale = false;
    this.syncing = true;
    // The pane must be sending again before the snapshot, or output after it is lost.
    this.ctl.checkPause(this.pane);
    this.ctl.snapshot(this.pane.id, (bytes) => {
      if (this.done) return;
      this.syncing = false;
      if (bytes) this.emit(bytes);
      // Dropped again while the snapshot was on its way (tmux paused the pane): once more.
      if (this.stale) this.sync();
    });
  }

  private emit(d: Buffer): void {
    this.data.emit(d);
  }

  exited(code: number): void {
    if (this.done) return;
    this.done = true;
    this.held = [];
    this.exit.emitLast({ exitCode: code });
  }

  onData(cb: (data: Buffer | string) => void): { dispose(): void } {
    return this.data.add(cb);
  }

  onExit(cb: (e: { exitCode: number; signal?: number }) => void): { dispose(): void } {
    return this.exit.add(cb);
  }

  write(data: string | Buffer): void {
    if (this.done) return;
    this.ctl.write(this.pane.id, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  resize(cols: number, rows: number): void {
    // A spectator watches the student's screen at the student's size.
    if (this.done || this.spectate) return;
    this.ctl.send(`resize-window -t ${this.pane.window} -x ${cols} -y ${rows}`);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.done) return;
    if (this.stale) return this.sync();
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const d of held) {
      if (this.paused || this.done) {
        // A listener paused us again mid-way: keep the rest, in order.
        this.held.push(d);
        this.heldBytes += d.length;
      } else this.emit(d);
    }
  }

  /** Detach (the shell and its window live on). */
  kill(): void {
    this.detach();
  }

  detach(): void {
    if (this.done) return;
    this.done = true;
    this.held = [];
    this.pane.streams.delete(this);
    this.ctl.detached(this.pane);
  }
}
