/**
 * Memory per terminal session: USS (private pages, /proc/PID/smaps_rollup) of the
 * whole server-side tree, shells included, with 0/1/10/50/200 open idle terminals.
 * Ours: the portal process + its tmux client(s) + the shared tmux server and every
 * shell under it, for both attach modes (one control-mode client for all terminals,
 * or one tmux client per terminal); each session is a distinct student logged in
 * through the token flow. wetty: its node process + one bash per socket.
 */
import * as fs from 'fs';
import { attachMode, AttachMode } from '../../portal/hosts/local';
import * as path from 'path';
import { REPO_ROOT_FOR_BENCH } from './lib/where';
import { connectOurs, connectWetty, TermConn, waitOutput } from './lib/clients';
import { descendants, ensurePeers, startWetty, uss, Wetty } from './lib/peers';
import { startPortal, Portal } from './lib/portal';
import { sleep, table } from './lib/stats';
import { below, report } from './lib/summary';

const STEPS = [0, 1, 10, 50, 200];
const FIXTURE_LABS = path.join(REPO_ROOT_FOR_BENCH, 'test', 'fixtures', 'labs');

function treeUss(roots: (number | null)[]): { bytes: number; procs: number; byName: Map<string, { n: number; bytes: number }> } {
  const pids = new Set<number>();
  for (const r of roots) {
    if (!r) continue;
    pids.add(r);
    for (const p of descendants(r)) pids.add(p);
  }
  let bytes = 0;
  const byName = new Map<string, { n: number; bytes: number }>();
  for (const p of pids) {
    const b = uss(p);
    bytes += b;
    let name = '?';
    try {
      name = fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim();
    } catch {
      // gone
    }
    const e = byName.get(name) ?? { n: 0, bytes: 0 };
    e.n++;
    e.bytes += b;
    byName.set(name, e);
  }
  return { bytes, procs: pids.size, byName };
}

/** Let the shells settle (prompt drawn, pages touched) before reading memory. */
async function settled(): Promise<void> {
  await sleep(1500);
}

type Row = ReturnType<typeof treeUss> & { n: number };

/** Open sessions up to each step and read the tree's memory; a failure ends the series (reported, not thrown). */
async function measure(name: string, open: (i: number) => Promise<TermConn>, roots: () => (number | null)[]): Promise<Row[]> {
  const conns: TermConn[] = [];
  const out: Row[] = [];
  const t0 = Date.now();
  try {
    for (const n of STEPS) {
      while (conns.length < n) {
        const c = await open(conns.length + 1);
        conns.push(c);
        c.send('echo UP$((40+2))\r');
        await waitOutput(c, /UP42/, 20000);
      }
      await settled();
      out.push({ n, ...treeUss(roots()) });
    }
    console.log(`${name}: ${conns.length} sessions opened and measured in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    console.log(`${name}: stopped after ${conns.length} sessions: ${(e as Error).message}`);
  } finally {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  }
  return out;
}

/** tmux control mode (one client for all terminals) and a tmux client per terminal; the default first. */
const ATTACH_MODES: AttachMode[] = attachMode() === 'control' ? ['control', 'client'] : ['client', 'control'];

export async function run(): Promise<void> {
  const why = ensurePeers();
  let wetty: Wetty | null = null;
  const ours = new Map<AttachMode, Row[]>();
  let theirs: Row[] = [];
  // Both ways of reaching tmux, the default first (portal/hosts/local.ts: TRACELAB_TMUX_ATTACH).
  for (const mode of ATTACH_MODES) {
    const saved = process.env.TRACELAB_TMUX_ATTACH;
    process.env.TRACELAB_TMUX_ATTACH = mode;
    let portal: Portal | null = null;
    try {
      portal = await startPortal(FIXTURE_LABS);
      const p = portal;
      ours.set(mode, await measure(`tracelab (tmux ${mode})`, async (i) => connectOurs(p.url, await p.login(`bench-${i}`)), () => [p.pid, p.tmuxPid()]));
    } finally {
      await portal?.stop();
      if (saved === undefined) delete process.env.TRACELAB_TMUX_ATTACH;
      else process.env.TRACELAB_TMUX_ATTACH = saved;
    }
  }
  if (!why) {
    try {
      wetty = await startWetty();
      const w = wetty;
      theirs = await measure('wetty', () => connectWetty(w.url), () => [w.pid]);
    } finally {
      await wetty?.stop();
    }
  }
  const MB = 1024 * 1024;
  const [dflt, other] = ATTACH_MODES;
  const a = ours.get(dflt) ?? [];
  const b = ours.get(other) ?? [];
  const rows: (string | number)[][] = [['sessions', `tmux ${dflt} MB`, 'procs', 'MB/session', `tmux ${other} MB`, 'procs', 'MB/session', 'wetty MB', 'procs', 'MB/session']];
  for (const o of a) {
    const c = b.find((x) => x.n === o.n);
    const t = theirs.find((x) => x.n === o.n);
    rows.push([
      String(o.n),
      o.bytes / MB,
      String(o.procs),
      o.n ? o.bytes / MB / o.n : NaN,
      c ? c.bytes / MB : NaN,
      c ? String(c.procs) : '—',
      c && c.n ? c.bytes / MB / c.n : NaN,
      t ? t.bytes / MB : NaN,
      t ? String(t.procs) : '—',
      t && t.n ? t.bytes / MB / t.n : NaN,
    ]);
  }
  console.log(`USS of the whole server tree (private pages), shells included; MB/session = total / sessions. tracelab's default: tmux ${dflt}.`);
  if (why) console.log(`wetty: not run (${why})`);
  table(rows);
  for (const [name, series] of [[`tracelab (tmux ${dflt})`, a], [`tracelab (tmux ${other})`, b], ['wetty', theirs]] as const) {
    const top = series[series.length - 1];
    if (!top) continue;
    const parts = [...top.byName].sort((x, y) => y[1].bytes - x[1].bytes).map(([k, v]) => `${k} ×${v.n} ${(v.bytes / MB).toFixed(1)} MB (${((v.bytes / v.n) / 1024).toFixed(0)} KB each)`);
    console.log(`${name} at ${top.n} sessions: ${parts.join('; ')}`);
  }
  const ours0 = a;
  const last = ours0[ours0.length - 1];
  const base = ours0[0];
  if (last && last.n === STEPS[STEPS.length - 1]) {
    console.log(`tracelab: ${((last.bytes - base.bytes) / MB / last.n).toFixed(2)} MB per added session (over the empty portal's ${(base.bytes / MB).toFixed(1)} MB)`);
    below(`memory per session at ${last.n} sessions (whole tree)`, last.bytes / MB / last.n, 1, 'MB');
  } else report({ what: 'memory at 200 sessions', target: '< 1 MB each', measured: `only ${last ? last.n : 0} sessions opened`, met: false, by: 'not measured' });
}
