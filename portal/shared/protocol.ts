/**
 * The terminal protocol, shared by the server (portal/server/terminal.ts) and the
 * browser (portal/client/terminal.ts). Modelled on ttyd's: message tags live here
 * and nowhere else.
 *
 * Over one WebSocket:
 *  - BINARY frames carry raw PTY bytes, both ways (keystrokes up, output down).
 *    No prefix: the hot path stays a plain byte copy.
 *  - TEXT frames carry small control messages: JSON objects with a `t` tag.
 *
 * Decoding never throws: it returns `{ok: false, code, message}` so the server can
 * answer a malformed frame with an `error` message instead of crashing.
 */

/** Control message tags (the `t` field). */
export const MSG = {
  /** client → server: the terminal's size changed. */
  RESIZE: 'resize',
  /** client → server: stop reading the PTY (xterm.js is behind). */
  PAUSE: 'pause',
  /** client → server: start reading again. */
  RESUME: 'resume',
  /** either way: keep-alive; the other side answers PONG. */
  PING: 'ping',
  PONG: 'pong',
  /** server → client: something went wrong (code is stable, message is for humans). */
  ERROR: 'error',
  /** server → client: the shell (tmux client) ended; `reason` says why where the server can tell (EXIT_REASON). */
  EXIT: 'exit',
  /** server → client: attach state, e.g. "attached" once the shell is up. */
  STATUS: 'status',
  /** instructor → server (spectate socket only): start forwarding my keystrokes to the student's shell. */
  TAKEOVER: 'takeover',
  /** instructor → server (spectate socket only): back to watching; keystrokes are dropped again. */
  RELEASE: 'release',
  /** server → client: who controls the shell — spectate (read-only) / control (instructor typing); on a student's page, whether an instructor has taken over. */
  MODE: 'mode',
  /** server → client: the user's lab host is still starting (a VM boot); sent while the gateway waits for it. */
  HOST_PROGRESS: 'host-progress',
  /** server → client: the lab host could not be started; the page shows it with a Retry button instead of reconnecting. */
  HOST_ERROR: 'host-error',
  /**
   * client → server: the page dropped output it had not drawn yet (Ctrl-C during a
   * burst): send the screen as it is now. server → client, the answer, in the output
   * stream's order: `ok` true — the output sent before this message is superseded (drop
   * what is still held of it) and a redraw of the current screen follows; `ok` false —
   * this shell cannot redraw, so draw what is held.
   */
  REDRAW: 'redraw',
  /**
   * server → client: `n` bytes of input have left the socket so far (handed to the
   * shell, or dropped by an interrupt): the client keeps at most PASTE_WINDOW bytes of
   * a paste beyond it on the wire, so a Ctrl-C typed during a long paste is read at
   * once instead of behind megabytes of it.
   */
  INPUT_ACK: 'input-ack',
} as const;

export type ControlMessage =
  | { t: typeof MSG.RESIZE; cols: number; rows: number }
  | { t: typeof MSG.PAUSE }
  | { t: typeof MSG.RESUME }
  | { t: typeof MSG.PING; n?: number }
  | { t: typeof MSG.PONG; n?: number }
  | { t: typeof MSG.ERROR; code: string; message: string }
  | { t: typeof MSG.EXIT; code: number | null; reason?: ExitReason }
  | { t: typeof MSG.STATUS; state: 'attached' | 'starting'; track?: string }
  | { t: typeof MSG.TAKEOVER }
  | { t: typeof MSG.RELEASE }
  | { t: typeof MSG.MODE; mode: 'spectate' | 'control'; by?: string }
  | { t: typeof MSG.HOST_PROGRESS; percent: number; message: string }
  | { t: typeof MSG.HOST_ERROR; code: string; message: string }
  | { t: typeof MSG.REDRAW; ok?: boolean }
  | { t: typeof MSG.INPUT_ACK; n: number };

/**
 * Why a shell ended, as far as the gateway can tell (portal/server/terminal/exit-reason.ts).
 * The page words each one; an older server sends none (read as UNKNOWN).
 */
export const EXIT_REASON = {
  /** The shell exited by itself: `exit` or Ctrl-D. */
  EXIT: 'exit',
  /** The shell's session closed: it exited or was killed (tmux cannot say which). */
  ENDED: 'ended',
  /** The terminal session itself (the tmux server) was killed: every shell in it is gone. */
  SESSION_KILLED: 'session-killed',
  /** Only this terminal's connection to the shell ended; the shell may still run. */
  DETACHED: 'detached',
  /** The attachment ended abnormally without saying why (a control-mode client lost, ssh dropped): the shell may or may not live. */
  LOST: 'lost',
  UNKNOWN: 'unknown',
} as const;
export type ExitReason = (typeof EXIT_REASON)[keyof typeof EXIT_REASON];
const EXIT_REASONS: readonly string[] = Object.values(EXIT_REASON);

/**
 * Longest host message carried in HOST_PROGRESS / HOST_ERROR: a failed `vagrant up`
 * explains itself at length, and the whole frame must stay under MAX_CONTROL_BYTES
 * even when JSON escaping doubles it.
 */
export const MAX_HOST_MESSAGE = 400;

/** A host message cut to fit a control frame (control characters would escape to 6 bytes each). */
export function hostMessage(s: string): string {
  const clean = s.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ' ');
  return clean.length > MAX_HOST_MESSAGE ? clean.slice(0, MAX_HOST_MESSAGE - 1) + '…' : clean;
}

/** Stable error codes carried in ERROR messages and decode failures. */
export const PROTO_ERR = {
  NOT_JSON: 'PROTO_NOT_JSON',
  BAD_MESSAGE: 'PROTO_BAD_MESSAGE',
  UNKNOWN_TAG: 'PROTO_UNKNOWN_TAG',
  TOO_LARGE: 'PROTO_TOO_LARGE',
} as const;

/** A control message is tiny; anything bigger is a bug or an attack. */
export const MAX_CONTROL_BYTES = 1024;
/**
 * One input frame. The client splits a paste into frames of INPUT_CHUNK bytes, so a
 * frame above MAX_INPUT_FRAME is malformed rather than a big paste.
 */
export const INPUT_CHUNK = 16 * 1024;
/**
 * Paste bytes the client puts on the wire beyond what the server acknowledged
 * (INPUT_ACK). The server hands input to the shell at INPUT_RATE (256 KB/s): 128 KB is
 * half a second of it, so the pipe stays full while an interrupt waits at most that.
 */
export const PASTE_WINDOW = 128 * 1024;
export const MAX_INPUT_FRAME = 64 * 1024;
/**
 * The biggest paste taken in one go. A 10 MB paste is a real thing to do (a data file
 * into `cat > file`); ten times that is a mistake that would hold the terminal for
 * many minutes behind it (Ctrl-C travels behind the paste). The client refuses a
 * bigger paste before sending; the server counts a burst (input received while earlier
 * input still waits for the shell) and closes the socket with TOO_LARGE past this.
 */
export const MAX_PASTE_BYTES = 64 * 1024 * 1024;

/** Terminal size bounds: anything outside is clamped (tmux and xterm misbehave past these). */
export const SIZE = { minCols: 2, maxCols: 500, minRows: 1, maxRows: 200, defaultCols: 80, defaultRows: 24 } as const;

export type Decoded<T> = { ok: true; msg: T } | { ok: false; code: string; message: string };

export function clampSize(cols: unknown, rows: unknown): { cols: number; rows: number } {
  const c = typeof cols === 'number' && Number.isFinite(cols) ? Math.floor(cols) : SIZE.defaultCols;
  const r = typeof rows === 'number' && Number.isFinite(rows) ? Math.floor(rows) : SIZE.defaultRows;
  return {
    cols: Math.min(SIZE.maxCols, Math.max(SIZE.minCols, c)),
    rows: Math.min(SIZE.maxRows, Math.max(SIZE.minRows, r)),
  };
}

export function encodeControl(msg: ControlMessage): string {
  return JSON.stringify(msg);
}

function bad(code: string, message: string): Decoded<never> {
  return { ok: false, code, message };
}

/** Decode a text frame into a control message. Never throws. */
export function decodeControl(text: unknown): Decoded<ControlMessage> {
  if (typeof text !== 'string') return bad(PROTO_ERR.BAD_MESSAGE, 'control message must be text');
  if (text.length > MAX_CONTROL_BYTES) {
    return bad(PROTO_ERR.TOO_LARGE, `control message is ${text.length} bytes (limit ${MAX_CONTROL_BYTES})`);
  }
  let v: any;
  try {
    v = JSON.parse(text);
  } catch {
    return bad(PROTO_ERR.NOT_JSON, 'control message is not JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || typeof v.t !== 'string') {
    return bad(PROTO_ERR.BAD_MESSAGE, 'control message must be an object with a string "t"');
  }
  switch (v.t) {
    case MSG.RESIZE:
      if (typeof v.cols !== 'number' || typeof v.rows !== 'number' || !Number.isFinite(v.cols) || !Number.isFinite(v.rows)) {
        return bad(PROTO_ERR.BAD_MESSAGE, 'resize needs numeric cols and rows');
      }
      return { ok: true, msg: { t: MSG.RESIZE, ...clampSize(v.cols, v.rows) } };
    case MSG.PAUSE:
    case MSG.RESUME:
      return { ok: true, msg: { t: v.t } };
    case MSG.PING:
    case MSG.PONG:
      return { ok: true, msg: { t: v.t, n: typeof v.n === 'number' ? v.n : undefined } };
    case MSG.ERROR:
      if (typeof v.code !== 'string' || typeof v.message !== 'string') return bad(PROTO_ERR.BAD_MESSAGE, 'error needs code and message');
      return { ok: true, msg: { t: MSG.ERROR, code: v.code, message: v.message } };
    case MSG.EXIT: {
      const code = typeof v.code === 'number' && Number.isFinite(v.code) ? v.code : null;
      if (v.reason === undefined) return { ok: true, msg: { t: MSG.EXIT, code } };
      return { ok: true, msg: { t: MSG.EXIT, code, reason: EXIT_REASONS.includes(v.reason) ? v.reason : EXIT_REASON.UNKNOWN } };
    }
    case MSG.STATUS:
      if (v.state !== 'attached' && v.state !== 'starting') return bad(PROTO_ERR.BAD_MESSAGE, 'status.state must be attached|starting');
      return { ok: true, msg: { t: MSG.STATUS, state: v.state, track: typeof v.track === 'string' ? v.track : undefined } };
    case MSG.TAKEOVER:
    case MSG.RELEASE:
      return { ok: true, msg: { t: v.t } };
    case MSG.MODE:
      if (v.mode !== 'spectate' && v.mode !== 'control') return bad(PROTO_ERR.BAD_MESSAGE, 'mode.mode must be spectate|control');
      return { ok: true, msg: { t: MSG.MODE, mode: v.mode, by: typeof v.by === 'string' ? v.by.slice(0, 100) : undefined } };
    case MSG.HOST_PROGRESS:
      if (typeof v.percent !== 'number' || !Number.isFinite(v.percent) || typeof v.message !== 'string') {
        return bad(PROTO_ERR.BAD_MESSAGE, 'host-progress needs numeric percent and a message');
      }
      return { ok: true, msg: { t: MSG.HOST_PROGRESS, percent: Math.min(100, Math.max(0, Math.round(v.percent))), message: hostMessage(v.message) } };
    case MSG.HOST_ERROR:
      if (typeof v.code !== 'string' || typeof v.message !== 'string') return bad(PROTO_ERR.BAD_MESSAGE, 'host-error needs code and message');
      return { ok: true, msg: { t: MSG.HOST_ERROR, code: v.code.slice(0, 40), message: hostMessage(v.message) } };
    case MSG.REDRAW:
      return { ok: true, msg: v.ok === undefined ? { t: MSG.REDRAW } : { t: MSG.REDRAW, ok: v.ok === true } };
    case MSG.INPUT_ACK:
      if (typeof v.n !== 'number' || !Number.isSafeInteger(v.n) || v.n < 0) return bad(PROTO_ERR.BAD_MESSAGE, 'input-ack needs a byte count');
      return { ok: true, msg: { t: MSG.INPUT_ACK, n: v.n } };
    default:
      return bad(PROTO_ERR.UNKNOWN_TAG, `unknown control message "${String(v.t).slice(0, 20)}"`);
  }
}

/** Check an input (binary) frame from the client. Never throws. */
export function checkInputFrame(size: number): Decoded<null> {
  if (size > MAX_INPUT_FRAME) return bad(PROTO_ERR.TOO_LARGE, `input frame is ${size} bytes (limit ${MAX_INPUT_FRAME})`);
  return { ok: true, msg: null };
}

/**
 * Split text into chunks of at most `max` UTF-8 bytes without cutting a character
 * (so every frame is valid UTF-8 on its own).
 */
export function chunkText(text: string, max: number = INPUT_CHUNK): string[] {
  const out: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let n = code < 0x80 ? 1 : code < 0x800 ? 2 : code >= 0xd800 && code <= 0xdbff ? 4 : 3;
    if (n === 4) i++; // the low surrogate belongs to this character
    if (bytes + n > max && i > start) {
      const cut = n === 4 ? i - 1 : i;
      out.push(text.slice(start, cut));
      start = cut;
      bytes = 0;
    }
    bytes += n;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}
