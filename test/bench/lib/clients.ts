/**
 * Protocol-level terminal clients, no browser: ours speaks portal/shared/protocol.ts
 * over `ws` (binary frames both ways); wetty's speaks socket.io (`input` / `data`
 * events, `commit` every 256 KB for its flow control, as its browser client does).
 * Both expose the same small surface so one measurement drives either.
 */
import WebSocket from 'ws';
import { MSG, encodeControl } from '../../../portal/shared/protocol';
import { socketIoClient } from './peers';

export interface TermConn {
  /** Called with every chunk of terminal output (decoded as latin1/utf8 text). */
  onOutput: ((s: string) => void) | null;
  send(s: string): void;
  resize(cols: number, rows: number): void;
  close(): Promise<void>;
}

/** Reject (and drop the connection) if `p` does not settle within ms: a bench must never hang. */
function bounded<T>(p: Promise<T>, ms: number, what: string, drop: () => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      drop();
      reject(new Error(`bench: ${what} did not attach within ${ms} ms`));
    }, ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e) => (clearTimeout(t), reject(e)));
  });
}

export function connectOurs(baseUrl: string, cookie: string, cols = 80, rows = 24): Promise<TermConn> {
  const u = new URL(baseUrl);
  const ws = new WebSocket(`ws://${u.host}/api/terminal?cols=${cols}&rows=${rows}`, { headers: { Cookie: cookie, Origin: u.origin } });
  return bounded(new Promise((resolve, reject) => {
    const conn: TermConn = {
      onOutput: null,
      send: (s) => ws.send(Buffer.from(s, 'utf8'), { binary: true }),
      resize: (c, r) => ws.send(encodeControl({ t: MSG.RESIZE, cols: c, rows: r })),
      close: () =>
        new Promise((res) => {
          if (ws.readyState === WebSocket.CLOSED) return res();
          ws.once('close', () => res());
          ws.close();
        }),
    };
    ws.on('message', (data, isBinary) => {
      if (isBinary) conn.onOutput?.((data as Buffer).toString('latin1'));
      else if (String(data).includes('"attached"')) resolve(conn);
      else if (String(data).includes('"error"')) reject(new Error(`ours: ${data}`));
    });
    ws.on('error', reject);
    ws.on('unexpected-response', (_q, res) => reject(new Error(`ours: upgrade refused ${res.statusCode}`)));
  }), 20000, 'a tracelab terminal', () => ws.terminate());
}

export function connectWetty(baseUrl: string, cols = 80, rows = 24): Promise<TermConn> {
  const { io } = socketIoClient();
  const socket = io(baseUrl, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true });
  let unacked = 0;
  return bounded(new Promise((resolve, reject) => {
    const conn: TermConn = {
      onOutput: null,
      send: (s) => socket.emit('input', s),
      resize: (c, r) => socket.emit('resize', { cols: c, rows: r }),
      close: () =>
        new Promise((res) => {
          if (socket.disconnected) return res();
          socket.once('disconnect', () => res());
          socket.disconnect();
        }),
    };
    socket.on('data', (s: string) => {
      unacked += s.length;
      // wetty's client commits every 256 KB; without it the server pauses the PTY at 2 MB.
      if (unacked >= 262144) {
        unacked -= 262144;
        socket.emit('commit', 262144);
      }
      conn.onOutput?.(s);
    });
    socket.on('login', () => {
      conn.resize(cols, rows);
      resolve(conn);
    });
    socket.on('connect_error', (e: Error) => reject(new Error(`wetty: ${e.message}`)));
  }), 20000, 'a wetty terminal', () => socket.disconnect());
}

/** Resolve once the output (from now on) matches `re`; reject after ms. Keeps only a bounded tail. */
export function waitOutput(conn: TermConn, re: RegExp, ms = 20000): Promise<{ bytes: number }> {
  return new Promise((resolve, reject) => {
    let tail = '';
    let bytes = 0;
    const t = setTimeout(() => {
      conn.onOutput = null;
      reject(new Error(`bench: no ${re} in the output within ${ms} ms; last: ${JSON.stringify(tail.slice(-300))}`));
    }, ms);
    conn.onOutput = (s) => {
      bytes += s.length;
      tail = (tail + s).slice(-4096);
      if (re.test(tail)) {
        clearTimeout(t);
        conn.onOutput = null;
        resolve({ bytes });
      }
    };
  });
}
