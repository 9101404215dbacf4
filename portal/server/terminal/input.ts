/**
 * Keystrokes and pastes on their way from one WebSocket to one shell.
 *
 * A keystroke goes straight through. A paste (the browser sends it as a run of 16 KB
 * frames) is queued and handed to the shell in slices at a metered pace, and while
 * more than HIGH bytes wait here the caller stops reading the WebSocket (`ws.pause()`):
 * TCP then holds the rest in the browser, so a 10 MB paste costs this process HIGH
 * bytes, not 10 MB.
 *
 * Why metered rather than "as fast as write() takes it": ShellStream.write() has no
 * completion signal (node-pty 1.1's write() is void; its queue has no limit and, while
 * the PTY is full, retries on every event-loop turn). The consumer is slow: tmux turns
 * each byte into a key event, ~0.25 MB/s at best here, 0.1 under load, in both attach
 * modes (docs/robustness.md). Metered at 1 MB/s, a 10 MB paste left ~8 MB in node-pty's
 * queue and the portal spent 45% of a core retrying it; RATE is tmux's best pace, so
 * little waits below us and a faster host loses little. BURST lets ordinary pastes (a
 * command, a script of a few KB) through at once.
 *
 * Interrupts. The browser client keeps at most PASTE_WINDOW bytes of a paste on the
 * wire beyond what this queue acknowledged (`ack`, INPUT_ACK: bytes taken off the
 * socket so far), so a Ctrl-C typed during a 10 MB paste arrives within that much. A
 * lone interrupt key (Ctrl-C, Ctrl-Z, Ctrl-\) arriving while a paste waits here drops
 * the rest of it before it is typed, as the tty itself flushes its input queue on
 * SIGINT, SIGTSTP and SIGQUIT: the key is what the user wants now, not the paste.
 */
import { MAX_PASTE_BYTES } from '../../shared/protocol';

/** Queued bytes above which the caller stops reading the socket, and below which it starts again. */
export const INPUT_HIGH = 1024 * 1024;
export const INPUT_LOW = 256 * 1024;
/** Largest single write to the shell: one slice per event-loop turn keeps other users' turns short. */
export const INPUT_SLICE = 16 * 1024;
/** Meter: bytes per second handed to the shell once BURST is spent. */
export const INPUT_RATE = 256 * 1024;
export const INPUT_BURST = 64 * 1024;

/** At most one INPUT_ACK per this many ms (a keystroke needs none at once; a paste's pump waits on them). */
export const ACK_MS = 20;
/** Keys whose signal makes the tty flush its input: a paste still queued is dropped before them. */
const INTERRUPTS = new Set([0x03, 0x1a, 0x1c]);

export type PushResult = 'ok' | 'too-large';

export class InputQueue {
  private chunks: Buffer[] = [];
  private queuedBytes = 0;
  /** Bytes received since the queue was last empty: one paste, as far as the server can tell. */
  private burstBytes = 0;
  private tokens = INPUT_BURST;
  private lastRefill = Date.now();
  private pumping = false;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private socketPaused = false;
  private disposed = false;
  /** Most bytes ever queued here at once (tests and benches read it). */
  peak = 0;
  /** Bytes taken off the socket so far: written to the shell, or dropped by an interrupt. */
  private consumed = 0;
  private acked = 0;
  private ackTimer: NodeJS.Timeout | null = null;
  /** Paste bytes an interrupt dropped before they were typed (tests read it). */
  droppedByInterrupt = 0;

  constructor(
    private readonly write: (b: Buffer) => void,
    /** true: stop reading the socket; false: read again. */
    private readonly backpressure: (pause: boolean) => void,
    /** INPUT_ACK: `n` bytes have left the socket so far. */
    private readonly ack: (n: number) => void = () => undefined,
  ) {}

  get queued(): number {
    return this.queuedBytes;
  }

  push(buf: Buffer): PushResult {
    if (this.disposed || !buf.length) return 'ok';
    if (buf.length === 1 && INTERRUPTS.has(buf[0]) && this.queuedBytes > 0) {
      this.droppedByInterrupt += this.queuedBytes;
      this.consumed += this.queuedBytes;
      this.chunks = [];
      this.queuedBytes = 0;
      this.burstBytes = 0;
      this.release();
      // The key itself now, ahead of the meter's next turn.
      if (this.timer) clearTimeout(this.timer);
      if (this.immediate) clearImmediate(this.immediate);
      this.timer = null;
      this.immediate = null;
      this.pumping = false;
      this.consumed += 1;
      this.write(buf);
      this.scheduleAck();
      return 'ok';
    }
    if (this.burstBytes + buf.length > MAX_PASTE_BYTES) return 'too-large';
    this.burstBytes += buf.length;
    this.chunks.push(buf);
    this.queuedBytes += buf.length;
    if (this.queuedBytes > this.peak) this.peak = this.queuedBytes;
    if (!this.socketPaused && this.queuedBytes > INPUT_HIGH) {
      this.socketPaused = true;
      this.backpressure(true);
    }
    this.pump();
    return 'ok';
  }

  /** Forget everything queued (a refused paste); the socket is read again. */
  clear(): void {
    this.chunks = [];
    this.queuedBytes = 0;
    this.burstBytes = 0;
    this.release();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    this.step();
  }

  private step(): void {
    this.timer = null;
    this.immediate = null;
    if (this.disposed || !this.chunks.length) {
      this.pumping = false;
      this.burstBytes = 0;
      return;
    }
    const now = Date.now();
    this.tokens = Math.min(INPUT_BURST, this.tokens + ((now - this.lastRefill) * INPUT_RATE) / 1000);
    this.lastRefill = now;
    const head = this.chunks[0];
    const want = Math.min(INPUT_SLICE, head.length);
    if (this.tokens < want) {
      const ms = Math.ceil(((want - this.tokens) * 1000) / INPUT_RATE);
      this.timer = setTimeout(() => this.step(), Math.max(1, ms));
      return;
    }
    let slice = head;
    if (head.length > want) {
      this.chunks[0] = head.subarray(want);
      slice = head.subarray(0, want);
    } else this.chunks.shift();
    this.queuedBytes -= slice.length;
    this.tokens -= slice.length;
    this.consumed += slice.length;
    this.write(slice);
    this.scheduleAck();
    if (this.socketPaused && this.queuedBytes < INPUT_LOW) this.release();
    this.immediate = setImmediate(() => this.step());
  }

  private scheduleAck(): void {
    if (this.ackTimer || this.disposed) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      if (this.disposed || this.consumed === this.acked) return;
      this.acked = this.consumed;
      this.ack(this.consumed);
    }, ACK_MS);
  }

  private release(): void {
    if (!this.socketPaused) return;
    this.socketPaused = false;
    this.backpressure(false);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.chunks = [];
    this.queuedBytes = 0;
  }
}
