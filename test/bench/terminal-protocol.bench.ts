/**
 * Terminal path without a browser: keystroke echo latency and output throughput over
 * each protocol (ours: WebSocket binary frames through tmux; wetty: socket.io straight
 * to the PTY), same bash, same 80x24 size, one client at a time.
 */
import { attachMode, AttachMode } from '../../portal/hosts/local';
import { DEFAULT_LABS_ROOT } from '../../src/labs';
import { connectOurs, connectWetty, TermConn, waitOutput } from './lib/clients';
import { ensurePeers, startWetty, Wetty } from './lib/peers';
import { startPortal, Portal } from './lib/portal';
import { summarize, table } from './lib/stats';
import { below } from './lib/summary';

const KEYS = 400;
/** Letters that do not occur in the escape sequences tmux or bash emit around an echo. */
const CHARS = 'qwzxjvy';
const BASE64_BYTES = 5300000; // → about 7.16 MB of base64 text with newlines
const SENTINEL_CMD = `head -c ${BASE64_BYTES} /dev/urandom | base64; echo SENT$((1+1))INEL\r`;

async function echoLatency(conn: TermConn): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < KEYS; i++) {
    const ch = CHARS[i % CHARS.length];
    const got = waitOutput(conn, new RegExp(ch), 5000);
    const t0 = process.hrtime.bigint();
    conn.send(ch);
    await got;
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    // Rub it out again so the line never wraps (not measured).
    const rubbed = waitOutput(conn, /[\b\x1b]/, 5000);
    conn.send('\x7f');
    await rubbed;
  }
  return ms;
}

async function throughput(conn: TermConn): Promise<{ mbps: number; secs: number; received: number }> {
  // Warm the command up once (page cache, bash hash) at small size, untimed.
  conn.send('head -c 1000 /dev/urandom | base64 >/dev/null; echo WAR$((1+1))M\r');
  await waitOutput(conn, /WAR2M/);
  const produced = Math.ceil(BASE64_BYTES / 3) * 4 + Math.ceil(BASE64_BYTES / 57);
  const done = waitOutput(conn, /SENT2INEL/, 120000);
  const t0 = process.hrtime.bigint();
  conn.send(SENTINEL_CMD);
  const { bytes } = await done;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { mbps: produced / 1e6 / secs, secs, received: bytes };
}

async function settle(conn: TermConn): Promise<void> {
  conn.send('echo RE$((2+3))ADY\r');
  await waitOutput(conn, /RE5ADY/);
}

/** tmux control mode (one client for all terminals) and a tmux client per terminal; the default first. */
const ATTACH_MODES: AttachMode[] = attachMode() === 'control' ? ['control', 'client'] : ['client', 'control'];

export async function run(): Promise<void> {
  const why = ensurePeers();
  let wetty: Wetty | null = null;
  let portal: Portal | null = null;
  const rows: (string | number)[][] = [['protocol (no browser)', 'echo p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'base64 MB/s', 'secs', 'MB on the wire']];
  let oursP50 = NaN;
  // Both ways of reaching tmux, the default first (portal/hosts/local.ts: TRACELAB_TMUX_ATTACH).
  for (const mode of ATTACH_MODES) {
    const saved = process.env.TRACELAB_TMUX_ATTACH;
    process.env.TRACELAB_TMUX_ATTACH = mode;
    try {
      portal = await startPortal(DEFAULT_LABS_ROOT);
      const conn = await connectOurs(portal.url, await portal.login('bench-proto'));
      await settle(conn);
      const lat = summarize(await echoLatency(conn));
      const tp = await throughput(conn);
      await conn.close();
      if (mode === ATTACH_MODES[0]) oursP50 = lat.p50;
      rows.push([`tracelab (ws, binary, tmux ${mode}${mode === ATTACH_MODES[0] ? ', default' : ''})`, lat.p50, lat.p95, lat.p99, lat.max, tp.mbps, tp.secs, tp.received / 1e6]);
    } finally {
      await portal?.stop();
      portal = null;
      if (saved === undefined) delete process.env.TRACELAB_TMUX_ATTACH;
      else process.env.TRACELAB_TMUX_ATTACH = saved;
    }
  }
  if (why) rows.push([`wetty: not run (${why})`]);
  else {
    try {
      wetty = await startWetty();
      const conn = await connectWetty(wetty.url);
      await settle(conn);
      const lat = summarize(await echoLatency(conn));
      const tp = await throughput(conn);
      await conn.close();
      rows.push(['wetty 3.2.0 (socket.io)', lat.p50, lat.p95, lat.p99, lat.max, tp.mbps, tp.secs, tp.received / 1e6]);
    } finally {
      await wetty?.stop();
    }
  }
  console.log(`${KEYS} keys each, sequential (next key after the echo); ~7.16 MB of base64, timed from Enter to the sentinel.`);
  table(rows);
  below('protocol echo p50 (ours)', oursP50, 0.5, 'ms');
}
