/**
 * The WebSocket terminal gateway: browser ⇄ PTY attached to the user's tmux session.
 *
 * Refusals happen at the upgrade, before any process exists, and say which rule
 * refused: no/unknown session cookie → 401, foreign Origin → 403.
 *
 * Flow, server side:
 *  - PTY output is coalesced for up to BATCH_MS or BATCH_BYTES per frame: a burst
 *    (`seq 1 3000000`) becomes a few hundred 64 KB frames instead of a hundred
 *    thousand tiny ones, which is what keeps the browser responsive. The exception
 *    is the first output after a keystroke (its echo): it goes out on the next
 *    event-loop turn, because waiting BATCH_MS for it was most of a keystroke's
 *    round trip (test/bench/terminal-protocol.bench.ts: p50 6.4 → 0.7 ms).
 *  - The PTY is paused while the client says it is behind (PAUSE/RESUME from the
 *    xterm.js write callbacks) or while the socket's own send buffer is above
 *    WS_HIGH. A paused PTY makes tmux throttle the pane, not the keyboard:
 *    Ctrl-C still goes straight in.
 *  - Input goes through an InputQueue (terminal/input.ts): keystrokes at once, a paste
 *    metered in slices, and the socket is not read while a paste backlog waits, so a
 *    10 MB paste holds at most INPUT_HIGH bytes here. A burst over MAX_PASTE_BYTES is
 *    refused (TOO_LARGE) and the socket closed: the browser's own copy goes with it.
 *  - When the shell ends, EXIT says why where the gateway can tell (terminal/exit-reason.ts).
 *  - REDRAW: the page interrupted a burst and dropped the output it had not drawn; the
 *    answer marks the cut in the stream and the shell's current screen follows it.
 */
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import { WebSocketServer, WebSocket, RawData } from 'ws';
import { MSG, PROTO_ERR, checkInputFrame, clampSize, decodeControl, encodeControl, hostMessage, ControlMessage, MAX_INPUT_FRAME, MAX_PASTE_BYTES } from '../shared/protocol';
import { Auth, originAllowed } from './auth';
import type { Hosts, HostStatus } from './hosts';
import { LabHost, LabHostError, HostErrorCode, ShellStream } from '../hosts/types';
import { InputQueue } from './terminal/input';
import { exitReason, EXIT_TAIL_BYTES } from './terminal/exit-reason';

export const TERMINAL_PATH = '/api/terminal';
const BATCH_MS = 5;
const BATCH_BYTES = 64 * 1024;
/**
 * Socket send-buffer bounds: above HIGH the PTY pauses until the buffer drains below
 * LOW. Everything queued here must still be drawn after the student presses Ctrl-C, so
 * HIGH stays small (4 frames ≈ 10–50 ms of xterm.js parsing); LOW keeps one frame
 * in flight so a fast link is not left idle while the PTY wakes up.
 */
const WS_HIGH = 256 * 1024;
const WS_LOW = 64 * 1024;
const HEARTBEAT_MS = 30_000;
/** Start failures that are the student's machine, not a portal bug: shown on the page with Retry. */
const SHOWN_HOST_ERRORS = new Set<HostErrorCode>(['HOST_START_FAILED', 'HOST_UNREACHABLE', 'HOST_MISSING_TOOL']);

export interface TerminalGateway {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  closeAll(): void;
  /** Open connections (tests and shutdown). */
  readonly size: number;
  /** Most input bytes any session held at once (a paste's backlog): tests and benches. */
  readonly peakInputQueued: number;
}

function refuse(socket: Duplex, status: number, text: string, why: string): void {
  const body = `${why}\n`;
  socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Tracelab-Refused: ${why.replace(/[^\x20-\x7e]/g, '?')}\r\n\r\n${body}`);
  socket.destroy();
}

export function createTerminalGateway(auth: Auth, hosts: Hosts, log: (msg: string) => void): TerminalGateway {
  // maxPayload leaves room above MAX_INPUT_FRAME so an oversized frame gets our clear error, not a bare 1009 close.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_INPUT_FRAME * 4 });
  const live = new Set<WebSocket>();
  const stats = { peakInputQueued: 0 };

  const heartbeat = setInterval(() => {
    for (const ws of live) {
      // A socket we stopped reading (a paste backlog) cannot show us its pong: not dead.
      if ((ws as any).tlAlive === false && !ws.isPaused) {
        ws.terminate();
        continue;
      }
      (ws as any).tlAlive = false;
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url || '/', 'http://x');
    if (url.pathname !== TERMINAL_PATH) return refuse(socket, 404, 'Not Found', `no WebSocket at ${url.pathname}`);
    const user = auth.userOf(req);
    if (!user) return refuse(socket, 401, 'Unauthorized', 'AUTH_REQUIRED: log in with the URL printed by `tracelab serve`');
    const origin = originAllowed(req);
    if (!origin.ok) return refuse(socket, 403, 'Forbidden', `ORIGIN_REJECTED: ${origin.why}`);
    const size = clampSize(Number(url.searchParams.get('cols')), Number(url.searchParams.get('rows')));
    wss.handleUpgrade(req, socket, head, (ws) => {
      live.add(ws);
      ws.on('close', () => live.delete(ws));
      // A malformed frame is an 'error' then a close (1002/1007/1009), possibly before the
      // shell is attached: without a listener from the start it would be an uncaught exception.
      ws.on('error', () => undefined);
      attach(ws, user, size).catch((e) => {
        log(`terminal: ${user}: ${e && e.stack ? e.stack : e}`);
        sendControl(ws, { t: MSG.ERROR, code: e.code || 'INTERNAL', message: e.message || String(e) });
        ws.close(1011, 'shell unavailable');
      });
    });
  }

  async function attach(ws: WebSocket, user: string, size: { cols: number; rows: number }): Promise<void> {
    (ws as any).tlAlive = true;
    ws.on('pong', () => ((ws as any).tlAlive = true));
    sendControl(ws, { t: MSG.STATUS, state: 'starting' });
    const host = await awaitHost(ws, user);
    if (!host || ws.readyState !== WebSocket.OPEN) return;
    const shell = await host.openShell(size);
    if (ws.readyState !== WebSocket.OPEN) {
      shell.kill();
      return;
    }
    sendControl(ws, { t: MSG.STATUS, state: 'attached', track: host.track });
    new Session(ws, shell, stats);
  }

  /**
   * Wait for the user's host, relaying its start progress to the page. Progress rides
   * this socket (not an SSE route) because the upgrade already authenticated the user
   * and the page is waiting on exactly this socket. A start that failed for a reason
   * the student can act on becomes HOST_ERROR (the page shows it with a Retry button
   * rather than reconnecting into another `vagrant up`); anything else is a bug.
   */
  async function awaitHost(ws: WebSocket, user: string): Promise<LabHost | null> {
    const ready = hosts.get(user);
    const progress = (s: HostStatus) => sendControl(ws, { t: MSG.HOST_PROGRESS, percent: s.percent, message: hostMessage(s.message) });
    // get() has just set the status: the snapshot first (a page reconnecting mid-boot), then every change.
    const now = hosts.status(user);
    if (now && now.state === 'starting') progress(now);
    const off = hosts.onStatus((u, s) => u === user && s.state === 'starting' && progress(s));
    ws.once('close', off);
    try {
      return await ready;
    } catch (e) {
      if (!(e instanceof LabHostError) || !SHOWN_HOST_ERRORS.has(e.code)) throw e;
      log(`terminal: ${user}: host did not start: ${e.code}: ${e.message}`);
      sendControl(ws, { t: MSG.HOST_ERROR, code: e.code, message: hostMessage(e.message) });
      ws.close(1011, 'host did not start');
      return null;
    } finally {
      off();
    }
  }

  return {
    handleUpgrade,
    closeAll() {
      clearInterval(heartbeat);
      for (const ws of live) ws.close(1001, 'portal shutting down');
      wss.close();
    },
    get size() {
      return live.size;
    },
    get peakInputQueued() {
      return stats.peakInputQueued;
    },
  };
}

function sendControl(ws: WebSocket, msg: ControlMessage): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(encodeControl(msg));
}

/** One browser connection attached to one PTY. */
class Session {
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushSoon: NodeJS.Immediate | null = null;
  /** Input went to the PTY and no output has come back since: the next output is its echo. */
  private echoDue = false;
  private clientPaused = false;
  private socketPaused = false;
  private ptyPaused = false;
  private readonly input: InputQueue;
  /** The last output chunks: a tmux client's goodbye line says why the shell ended. */
  private tail: Buffer[] = [];
  private closed = false;
  private disposables: { dispose(): void }[] = [];

  constructor(
    private readonly ws: WebSocket,
    private readonly shell: ShellStream,
    private readonly stats: { peakInputQueued: number },
  ) {
    this.input = new InputQueue(
      (b) => shell.write(b),
      (pause) => {
        if (pause) ws.pause();
        else ws.resume();
        // While the socket is not read, the client's RESUME cannot reach us: its PAUSE
        // is lifted meanwhile (WS_HIGH still bounds what we send), so the screen keeps
        // moving during a paste and no host can deadlock on output it cannot write.
        this.applyPause();
      },
      (n) => sendControl(this.ws, { t: MSG.INPUT_ACK, n }),
    );
    this.disposables.push(shell.onData((d) => this.onOutput(typeof d === 'string' ? Buffer.from(d, 'utf8') : d)));
    this.disposables.push(
      shell.onExit((e) => {
        this.flush();
        const reason = exitReason(Buffer.concat(this.tail).subarray(-EXIT_TAIL_BYTES).toString('utf8'), e.exitCode);
        sendControl(ws, { t: MSG.EXIT, code: e.exitCode, reason });
        ws.close(1000, 'shell exited');
        this.dispose();
      }),
    );
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('close', () => this.dispose());
    ws.on('error', () => this.dispose());
  }

  private onOutput(b: Buffer): void {
    if (b.length >= EXIT_TAIL_BYTES) this.tail = [b];
    else if (this.tail.push(b) > 2) this.tail.shift();
    this.out.push(b);
    this.outBytes += b.length;
    if (this.outBytes >= BATCH_BYTES) return this.flush();
    if (this.flushTimer || this.flushSoon) return;
    if (this.echoDue) {
      // Whatever the PTY hands us in this same turn rides along.
      this.echoDue = false;
      this.flushSoon = setImmediate(() => this.flush());
    } else this.flushTimer = setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.flushSoon) clearImmediate(this.flushSoon);
    this.flushTimer = null;
    this.flushSoon = null;
    if (!this.outBytes || this.ws.readyState !== WebSocket.OPEN) return;
    const frame = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    this.ws.send(frame, { binary: true }, () => {
      if (this.socketPaused && this.ws.bufferedAmount < WS_LOW) {
        this.socketPaused = false;
        this.applyPause();
      }
    });
    if (!this.socketPaused && this.ws.bufferedAmount > WS_HIGH) {
      this.socketPaused = true;
      this.applyPause();
    }
  }

  /**
   * The page dropped the output it had not drawn yet (Ctrl-C during a burst: nobody
   * wants to watch the backlog scroll past first). What is batched here goes too; the
   * answer marks the cut in the stream, and the shell's redraw of its current screen
   * follows it. A shell that cannot redraw says so and the page draws what it holds.
   */
  private redraw(): void {
    if (this.closed) return;
    if (!this.shell.redraw) return sendControl(this.ws, { t: MSG.REDRAW, ok: false });
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.flushSoon) clearImmediate(this.flushSoon);
    this.flushTimer = null;
    this.flushSoon = null;
    this.out = [];
    this.outBytes = 0;
    sendControl(this.ws, { t: MSG.REDRAW, ok: true });
    this.shell.redraw();
  }

  private applyPause(): void {
    const want = (this.clientPaused && !this.ws.isPaused) || this.socketPaused;
    if (want === this.ptyPaused || this.closed) return;
    this.ptyPaused = want;
    if (want) this.shell.pause();
    else this.shell.resume();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      const ok = checkInputFrame(buf.length);
      if (!ok.ok) return sendControl(this.ws, { t: MSG.ERROR, code: ok.code, message: ok.message });
      if (this.closed) return;
      this.echoDue = true;
      if (this.input.push(buf) === 'too-large') {
        this.input.clear();
        sendControl(this.ws, { t: MSG.ERROR, code: PROTO_ERR.TOO_LARGE, message: `paste too large: more than ${MAX_PASTE_BYTES / 1048576} MB in one go; what had not reached the shell yet was dropped` });
        // Closing drops the rest of it, still on its way from the browser; the page reconnects to the same shell.
        this.ws.close(1009, 'paste too large');
        return this.dispose();
      }
      if (this.input.peak > this.stats.peakInputQueued) this.stats.peakInputQueued = this.input.peak;
      return;
    }
    const m = decodeControl(buf.toString('utf8'));
    if (!m.ok) return sendControl(this.ws, { t: MSG.ERROR, code: m.code, message: m.message });
    switch (m.msg.t) {
      case MSG.RESIZE:
        this.shell.resize(m.msg.cols, m.msg.rows);
        break;
      case MSG.PAUSE:
        this.clientPaused = true;
        this.applyPause();
        break;
      case MSG.RESUME:
        this.clientPaused = false;
        this.applyPause();
        break;
      case MSG.PING:
        sendControl(this.ws, { t: MSG.PONG, n: m.msg.n });
        break;
      case MSG.REDRAW:
        this.redraw();
        break;
      default:
        // pong / server-only tags from a client: ignore.
        break;
    }
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.flushSoon) clearImmediate(this.flushSoon);
    for (const d of this.disposables) d.dispose();
    this.disposables = [];
    this.input.dispose();
    // Detach this client only: the tmux session (the student's shell) lives on.
    this.shell.kill();
  }
}
