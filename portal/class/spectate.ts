/**
 * Spectate: an instructor's read-only view of a student's terminal, over its own
 * WebSocket (/api/class/spectate/:student), separate from the students' gateway.
 *
 * The spectator's PTY is a second tmux client on the student's session (attached
 * with ignore-size, so it never shrinks the student's screen). Input frames from
 * the spectator are DROPPED here, on the server, unless the instructor has sent
 * TAKEOVER; take-over and release are recorded in the store and announced to the
 * student's page. Output uses the same protocol as the student's terminal, with
 * simple flow control (pause the PTY while the socket's buffer is high).
 */
import { WebSocket, RawData } from 'ws';
import { MSG, checkInputFrame, decodeControl, encodeControl, ControlMessage } from '../shared/protocol';
import type { ShellStream } from '../hosts/types';

const BATCH_MS = 5;
const WS_HIGH = 1024 * 1024;
const WS_LOW = 128 * 1024;

function send(ws: WebSocket, m: ControlMessage): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(encodeControl(m));
}

export interface SpectateHooks {
  /** The instructor took over (true) or gave back (false) the student's shell. */
  onControl(active: boolean): void;
}

export class SpectateSession {
  private controlling = false;
  private out: Buffer[] = [];
  private timer: NodeJS.Timeout | null = null;
  private paused = false;
  private closed = false;
  private disposables: { dispose(): void }[] = [];
  /** Input frames dropped because the instructor was only watching (tests read it). */
  dropped = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly shell: ShellStream,
    private readonly hooks: SpectateHooks,
  ) {
    this.disposables.push(shell.onData((d) => this.output(typeof d === 'string' ? Buffer.from(d, 'utf8') : d)));
    this.disposables.push(
      shell.onExit(() => {
        this.flush();
        send(ws, { t: MSG.EXIT, code: null });
        ws.close(1000, 'the student has no terminal open');
        this.dispose();
      }),
    );
    ws.on('message', (data: RawData, isBinary: boolean) => this.message(data, isBinary));
    ws.on('close', () => this.dispose());
    ws.on('error', () => this.dispose());
    send(ws, { t: MSG.MODE, mode: 'spectate' });
  }

  private output(b: Buffer): void {
    this.out.push(b);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.out.length || this.ws.readyState !== WebSocket.OPEN) return;
    const frame = Buffer.concat(this.out);
    this.out = [];
    this.ws.send(frame, { binary: true }, () => {
      if (this.paused && this.ws.bufferedAmount < WS_LOW && !this.closed) {
        this.paused = false;
        this.shell.resume();
      }
    });
    if (!this.paused && this.ws.bufferedAmount > WS_HIGH) {
      this.paused = true;
      this.shell.pause();
    }
  }

  private message(data: RawData, isBinary: boolean): void {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      // The rule this socket exists for: a spectator's keystrokes go nowhere.
      if (!this.controlling) {
        this.dropped++;
        return;
      }
      const ok = checkInputFrame(buf.length);
      if (!ok.ok) return send(this.ws, { t: MSG.ERROR, code: ok.code, message: ok.message });
      this.shell.write(buf);
      return;
    }
    const m = decodeControl(buf.toString('utf8'));
    if (!m.ok) return send(this.ws, { t: MSG.ERROR, code: m.code, message: m.message });
    switch (m.msg.t) {
      case MSG.TAKEOVER:
        if (!this.controlling) {
          this.controlling = true;
          this.hooks.onControl(true);
        }
        send(this.ws, { t: MSG.MODE, mode: 'control' });
        break;
      case MSG.RELEASE:
        this.release();
        send(this.ws, { t: MSG.MODE, mode: 'spectate' });
        break;
      case MSG.PING:
        send(this.ws, { t: MSG.PONG, n: m.msg.n });
        break;
      default:
        // resize from a spectator is ignored: the student's screen decides the size.
        break;
    }
  }

  private release(): void {
    if (!this.controlling) return;
    this.controlling = false;
    this.hooks.onControl(false);
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
    this.disposables = [];
    this.shell.kill();
  }
}
