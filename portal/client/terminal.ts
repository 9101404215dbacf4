/**
 * The browser end of the terminal: xterm.js ⇄ WebSocket (portal/shared/protocol.ts).
 *
 * Flow control (after wetty's flowcontrol.ts and the xterm.js flow-control guide):
 * we count bytes handed to term.write() whose callback has not fired yet. Above
 * HIGH we ask the server to pause the PTY; below LOW we ask it to resume.
 *  - HIGH = 256 KB: xterm.js parses roughly 5–30 MB/s, so at most ~10–50 ms of
 *    output is queued ahead of the screen. That bounds how long Ctrl-C output takes
 *    to show and keeps keystrokes responsive during a burst.
 *  - LOW = 32 KB: still a few ms of work left when RESUME goes out, so the parser
 *    does not sit idle for the round trip; pausing on every frame would halve speed.
 * The server also batches output into frames of up to 64 KB, so one write callback
 * covers many lines.
 *
 * Output is not handed to xterm.js as it arrives: it waits in our own queue and at most
 * FEED bytes are in xterm.js at a time. What the server sent before our PAUSE reached it
 * (megabytes on a busy machine) waits there rather than in xterm.js, where nothing can
 * take it back. So when the user interrupts a burst (Ctrl-C, Ctrl-Z, Ctrl-\) the page
 * drops that backlog and asks for a REDRAW: the server answers with a marker in the
 * stream (everything before it is superseded) followed by the screen as it is now, and
 * the prompt shows at once instead of after seconds of stale output.
 *
 * The shell lives in tmux on the host: when the socket drops (reload, network,
 * portal restart) we reconnect with backoff and tmux redraws the same screen. When the
 * shell itself ends (EXIT), we do not reconnect by ourselves: the page says so and why
 * (ShellEndedView), and the button or any key opens a fresh shell.
 */
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { MSG, PROTO_ERR, ControlMessage, INPUT_CHUNK, MAX_PASTE_BYTES, PASTE_WINDOW, chunkText, decodeControl, encodeControl } from '../shared/protocol';
import { DisposableStore, Disposable, on, timer, interval } from './dispose';
import { HostStartView } from './progress';
import { ShellEndedView, endedText } from './shell-ended';

const HIGH = 256 * 1024;
const LOW = 32 * 1024;
/**
 * Output in xterm.js at a time, handed over in pieces of at most PIECE: all that an
 * interrupt cannot take back (a few ms of parsing; ~100 ms on a machine at load 12).
 * The next piece goes in from the last one's write callback, inside xterm.js's own
 * write loop, so throughput does not suffer.
 */
const FEED = 32 * 1024;
const PIECE = 16 * 1024;
/** Keys that interrupt what the shell runs (the tty's intr, susp and quit): the backlog before them is not worth drawing. */
const INTERRUPT_KEYS = new Set(['\x03', '\x1a', '\x1c']);
const PING_MS = 25_000;

export type TermState = 'connecting' | 'attached' | 'reconnecting' | 'ended' | 'error';

export class TerminalView implements Disposable {
  readonly term: Terminal;
  private readonly fit = new FitAddon();
  private readonly d = new DisposableStore();
  private conn = new DisposableStore();
  private ws: WebSocket | null = null;
  /** Bytes handed to xterm.js whose write callback has not fired yet. */
  private pending = 0;
  /** Output received and not yet handed to xterm.js (at most FEED is in xterm.js at once). */
  private queue: Uint8Array[] = [];
  private queued = 0;
  /** A REDRAW was asked for: output is held (not drawn) until the server's answer says what to do with it. */
  private awaitingRedraw = false;
  /** Bumped per connection: write callbacks of an earlier connection do not count against this one. */
  private gen = 0;
  private paused = false;
  private retries = 0;
  private ended = false;
  private disposed = false;
  private readonly encoder = new TextEncoder();
  /** Keystrokes are encoded into this one buffer (WebSocket.send copies it): nothing allocated per key. */
  private readonly keyBuf = new Uint8Array(INPUT_CHUNK);
  private lastError = '';
  /** A failed host start waits for the Retry button instead of reconnecting. */
  private hostFailed = false;
  private readonly hostStart: HostStartView;
  private readonly endedView: ShellEndedView;
  /**
   * A paste on its way: its frames go out while fewer than PASTE_WINDOW bytes are
   * beyond the server's INPUT_ACK, so an interrupt key typed during it is read at once
   * (it cancels what is not sent; the server drops what it still holds).
   */
  private paste: { chunks: string[]; next: number; sentChars: number; totalChars: number } | null = null;
  /** Input bytes sent on this connection, and how many of them the server has taken (INPUT_ACK). */
  private inputSent = 0;
  private inputAcked = 0;

  constructor(
    private readonly el: HTMLElement,
    private readonly onState: (s: TermState, detail?: string) => void,
  ) {
    this.term = new Terminal({
      fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono", "Liberation Mono", monospace',
      fontSize: 14,
      lineHeight: 1.15,
      cursorBlink: true,
      scrollback: 5000,
      allowProposedApi: false,
      theme: {
        background: '#0f1115',
        foreground: '#d8dee9',
        cursor: '#7fd1ff',
        selectionBackground: '#3b4252',
        black: '#1d2027', brightBlack: '#5c6370',
        red: '#e06c75', brightRed: '#ff7a85',
        green: '#98c379', brightGreen: '#b5e890',
        yellow: '#e5c07b', brightYellow: '#ffd68a',
        blue: '#61afef', brightBlue: '#7cc4ff',
        magenta: '#c678dd', brightMagenta: '#de94f2',
        cyan: '#56b6c2', brightCyan: '#7fd1dc',
        white: '#d8dee9', brightWhite: '#ffffff',
      },
    });
    this.term.loadAddon(this.fit);
    this.term.open(el);
    this.d.add(this.term);
    this.d.add(this.term.onData((s) => this.input(s)));
    this.d.add(this.term.onBinary((s) => this.sendBytes(Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff))));
    this.d.add(this.term.onResize(({ cols, rows }) => this.control({ t: MSG.RESIZE, cols, rows })));
    const ro = new ResizeObserver(() => this.refit());
    ro.observe(el);
    this.d.add({ dispose: () => ro.disconnect() });
    this.d.add(interval(() => this.control({ t: MSG.PING, n: Date.now() }), PING_MS));
    this.d.add({ dispose: () => this.conn.dispose() });
    this.hostStart = this.d.add(new HostStartView(el, () => {
      this.hostFailed = false;
      this.retries = 0;
      this.lastError = '';
      this.connect();
    }));
    this.endedView = this.d.add(new ShellEndedView(el, () => this.newShell()));
    this.refit();
    this.connect();
  }

  /** After EXIT: a fresh shell in the same workspace (the server starts one on attach). */
  private newShell(): void {
    if (!this.ended || this.disposed) return;
    this.ended = false;
    this.retries = 0;
    this.lastError = '';
    this.endedView.starting();
    this.connect();
    this.focus();
  }

  refit(): void {
    try {
      if (this.el.clientWidth > 0 && this.el.clientHeight > 0) this.fit.fit();
    } catch {
      // not laid out yet
    }
  }

  focus(): void {
    this.term.focus();
  }

  /** Type text into the shell as if the user typed it: each line followed by Enter. */
  typeLines(text: string): void {
    const lines = text.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
    this.input(lines.map((l) => l + '\r').join(''));
    this.focus();
  }

  private input(s: string): void {
    if (this.ended) return this.newShell(); // the key itself is not typed into the new shell
    if (s.length > MAX_PASTE_BYTES) {
      // The server would refuse it after minutes of sending; say so now and send nothing.
      this.term.write(`\r\n\x1b[1;31mtracelab: paste refused: ${(s.length / 1048576).toFixed(0)} MB is more than ${MAX_PASTE_BYTES / 1048576} MB; put big files in the workspace another way (scp, a shared folder)\x1b[0m\r\n`);
      return;
    }
    // At most 3 UTF-8 bytes per UTF-16 unit: a keystroke (the common case) always fits.
    if (s.length * 3 <= INPUT_CHUNK) {
      if (this.paste) {
        // An interrupt ends the paste; anything else typed meanwhile goes after it, in order.
        if (!INTERRUPT_KEYS.has(s)) {
          this.paste.chunks.push(s);
          this.paste.totalChars += s.length;
          return this.pumpPaste();
        }
        this.endPaste('interrupted');
      }
      const { written } = this.encoder.encodeInto(s, this.keyBuf);
      this.sendBytes(this.keyBuf.subarray(0, written));
      // The key first (it stops the burst), then: drop what is not drawn yet, ask for the screen as it is.
      if (this.queued && !this.awaitingRedraw && INTERRUPT_KEYS.has(s) && this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.awaitingRedraw = true;
        this.control({ t: MSG.REDRAW });
      }
      return;
    }
    const chunks = chunkText(s);
    if (this.paste) {
      this.paste.chunks.push(...chunks);
      this.paste.totalChars += s.length;
    } else this.paste = { chunks, next: 0, sentChars: 0, totalChars: s.length };
    this.pumpPaste();
  }

  /** Send the paste's next frames while the window allows; the next INPUT_ACK sends more. */
  private pumpPaste(): void {
    const p = this.paste;
    if (!p) return;
    while (p.next < p.chunks.length && this.inputSent - this.inputAcked < PASTE_WINDOW && this.ws && this.ws.readyState === WebSocket.OPEN) {
      const c = p.chunks[p.next];
      p.chunks[p.next++] = '';
      p.sentChars += c.length;
      this.sendBytes(this.encoder.encode(c));
    }
    if (p.next >= p.chunks.length) this.paste = null;
  }

  /** Drop what is left of a paste, and say so on the screen. */
  private endPaste(why: 'interrupted' | 'connection lost' | 'cut: the shell ended'): void {
    const p = this.paste;
    this.paste = null;
    if (!p) return;
    const kb = (n: number) => `${Math.round(n / 1024)} KB`;
    this.term.write(`\r\n\x1b[2mtracelab: paste ${why}: ${kb(p.sentChars)} of ${kb(p.totalChars)} sent, the rest dropped\x1b[0m\r\n`);
  }

  private sendBytes(b: Uint8Array): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(b);
      this.inputSent += b.byteLength;
    }
  }

  private control(m: ControlMessage): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeControl(m));
  }

  private connect(): void {
    if (this.disposed) return;
    this.conn.dispose();
    this.conn = new DisposableStore();
    this.onState(this.retries ? 'reconnecting' : 'connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/api/terminal?cols=${this.term.cols}&rows=${this.term.rows}`);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    // A new connection starts with a redraw of the screen: output still queued from the last one is superseded.
    this.gen++;
    // What the last connection did not deliver of a paste is unknown: it is not sent again.
    this.endPaste('connection lost');
    this.inputSent = 0;
    this.inputAcked = 0;
    this.pending = 0;
    this.queue = [];
    this.queued = 0;
    this.awaitingRedraw = false;
    this.paused = false;
    let attached = false;
    this.conn.add({ dispose: () => ws.readyState <= WebSocket.OPEN && ws.close() });
    this.conn.add(on(ws as any, 'message', (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return this.output(new Uint8Array(ev.data as ArrayBuffer));
      const m = decodeControl(ev.data);
      if (!m.ok) return console.warn('tracelab: bad control message', m.message);
      switch (m.msg.t) {
        case MSG.STATUS:
          if (m.msg.state === 'attached') {
            attached = true;
            this.retries = 0;
            this.lastError = '';
            this.hostStart.hide();
            this.endedView.hide();
            this.onState('attached', m.msg.track);
            this.control({ t: MSG.RESIZE, cols: this.term.cols, rows: this.term.rows });
          }
          break;
        case MSG.ERROR:
          this.onState('error', `${m.msg.message} (${m.msg.code})`);
          // Before attach (e.g. tmux missing) the retry loop would repeat it: say each message once.
          if ((!attached || m.msg.code === PROTO_ERR.TOO_LARGE) && m.msg.message !== this.lastError) this.term.write(`\r\n\x1b[1;31mtracelab: ${m.msg.message}\x1b[0m\r\n`);
          this.lastError = m.msg.message;
          break;
        case MSG.HOST_PROGRESS:
          this.hostStart.progress(m.msg.percent, m.msg.message);
          break;
        case MSG.HOST_ERROR:
          this.hostFailed = true;
          this.hostStart.failed(m.msg.code, m.msg.message);
          this.onState('error', `${m.msg.message} (${m.msg.code})`);
          break;
        case MSG.REDRAW:
          if (!this.awaitingRedraw) break;
          this.awaitingRedraw = false;
          if (m.msg.ok) {
            this.queue = [];
            this.queued = 0;
            // The redraw is small and wanted now: do not wait for xterm.js to finish what it holds.
            if (this.paused) {
              this.paused = false;
              this.control({ t: MSG.RESUME });
            }
          }
          this.feed();
          this.flow();
          break;
        case MSG.INPUT_ACK:
          this.inputAcked = m.msg.n;
          this.pumpPaste();
          break;
        case MSG.EXIT:
          this.endPaste('cut: the shell ended');
          this.ended = true;
          this.endedView.show(m.msg.reason, m.msg.code);
          this.onState('ended', endedText(m.msg.reason, m.msg.code));
          this.term.write('\r\n\x1b[2m[the shell ended — press any key for a new one]\x1b[0m\r\n');
          break;
        default:
          break;
      }
    }));
    this.conn.add(on(ws as any, 'close', () => {
      if (this.disposed || this.ended || this.hostFailed || this.ws !== ws) return;
      // Backoff: 0.25 s, 0.5 s, 1 s, then every 2 s: a portal restart takes a second or two,
      // and a retry is one cheap HTTP request.
      const delay = Math.min(2000, 250 * 2 ** this.retries++);
      this.onState('reconnecting');
      this.conn.add(timer(() => this.connect(), delay));
    }));
  }

  private output(data: Uint8Array): void {
    this.queue.push(data);
    this.queued += data.byteLength;
    this.feed();
    this.flow();
  }

  /** Hand queued output to xterm.js while less than FEED is waiting in it. */
  private feed(): void {
    const gen = this.gen;
    while (this.queue.length && this.pending < FEED && !this.awaitingRedraw) {
      let d = this.queue[0];
      if (d.byteLength > PIECE) {
        this.queue[0] = d.subarray(PIECE);
        d = d.subarray(0, PIECE);
      } else this.queue.shift();
      const n = d.byteLength;
      this.queued -= n;
      this.pending += n;
      this.term.write(d, () => {
        if (gen !== this.gen) return;
        this.pending -= n;
        this.feed();
        this.flow();
      });
    }
  }

  /** PAUSE the server while more than HIGH is waiting here (queued or in xterm.js); RESUME below LOW. */
  private flow(): void {
    const waiting = this.pending + this.queued;
    if (!this.paused && waiting > HIGH) {
      this.paused = true;
      this.control({ t: MSG.PAUSE });
    } else if (this.paused && waiting < LOW) {
      this.paused = false;
      this.control({ t: MSG.RESUME });
    }
  }

  dispose(): void {
    this.disposed = true;
    this.d.dispose();
  }
}
