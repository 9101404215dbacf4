/**
 * A WebSocket client at the byte level, to send what no well-behaved library would:
 * reserved opcodes, unmasked or truncated frames, lengths of 2^53, bad UTF-8.
 */
import * as crypto from 'crypto';
import * as net from 'net';

export interface RawWs {
  socket: net.Socket;
  /** Resolves when the server closed the connection: the close code it sent, if any. */
  closed: Promise<{ code: number | null; reason: string }>;
  /** Frames the server sent (opcode, payload), in order. */
  frames: { op: number; data: Buffer }[];
}

/** Open an upgrade by hand; rejects with the status line if the server refuses. */
export function rawUpgrade(port: number, path: string, headers: Record<string, string>): Promise<RawWs> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const frames: { op: number; data: Buffer }[] = [];
    let closeCode: { code: number | null; reason: string } | null = null;
    let resolveClosed!: (v: { code: number | null; reason: string }) => void;
    const closed = new Promise<{ code: number | null; reason: string }>((r) => (resolveClosed = r));
    socket.on('connect', () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13'];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        if (!/^HTTP\/1\.1 101/.test(head)) {
          socket.destroy();
          return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        }
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve({ socket, closed, frames });
      }
      // Parse complete server frames (unmasked).
      for (;;) {
        if (buf.length < 2) break;
        const op = buf[0] & 0x0f;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) break;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) break;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if (buf.length < off + len) break;
        const data = buf.subarray(off, off + len);
        frames.push({ op, data });
        if (op === 0x8) closeCode = { code: data.length >= 2 ? data.readUInt16BE(0) : null, reason: data.subarray(2).toString() };
        buf = buf.subarray(off + len);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!upgraded) reject(new Error('closed before the upgrade'));
      resolveClosed(closeCode ?? { code: null, reason: '' });
    });
  });
}

/** One client frame. `mask: false` breaks the protocol on purpose; `claimLen` lies about the length. */
export function frame(op: number, payload: Buffer, o: { fin?: boolean; mask?: boolean; rsv1?: boolean; claimLen?: number } = {}): Buffer {
  const fin = o.fin ?? true;
  const mask = o.mask ?? true;
  const len = o.claimLen ?? payload.length;
  const b0 = (fin ? 0x80 : 0) | (o.rsv1 ? 0x40 : 0) | (op & 0x0f);
  let head: Buffer;
  if (len < 126) head = Buffer.from([b0, (mask ? 0x80 : 0) | len]);
  else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = b0;
    head[1] = (mask ? 0x80 : 0) | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = b0;
    head[1] = (mask ? 0x80 : 0) | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!mask) return Buffer.concat([head, payload]);
  const key = crypto.randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, key, body]);
}
