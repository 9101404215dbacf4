/**
 * Load: 100 concurrent terminals streaming output, plus 20 simultaneous checks, on one
 * machine, against the portal in its own process. Reports the longest stall any
 * terminal saw (largest gap between two output frames while its shell was printing)
 * before, during and after the checks; the portal's own event-loop delay over the same
 * windows (perf_hooks inside the portal: was a stall the portal's JavaScript, or tmux and
 * the CPU?); checks completed vs failed; and the portal's peak RSS. Bounded (about a
 * minute) and cleans up (clients, portal, the data dir's tmux server).
 *
 * The checks are `tracelab check` of the fixture lab, which has no checker: each is a
 * real CLI process started through LabHost.exec (via the portal's check queue) and a
 * stored result, not a tracing run (20 concurrent bpftrace checks on 2 cores measure
 * bpftrace, not the portal).
 *
 * Each shell prints a burst every 50 ms with bash builtins only (printf, and `read -t`
 * on a pipe nobody writes as the 50 ms sleep), in two runs of different line shapes
 * (PROFILES below). The first version of this bench ran `seq 1 300; sleep 0.05` in a
 * loop: 100 shells x 2 execs x 20/s = 4000 processes a second, which on 2 cores took 66%
 * of all CPU samples (perf, by comm: seq 23%, bash 22%, sleep 21%; tmux 7%) and starved
 * tmux on its own, checks or not. That measures fork throughput, not terminals;
 * TL_LOAD_CMD='while :; do seq 1 300; sleep 0.05; done' still runs it (any TL_LOAD_CMD
 * replaces both profiles; TL_LOAD_PROFILE=trace or =short runs one of them).
 *
 * TL_LOAD_TERMINALS / TL_LOAD_CHECKS change the counts, TRACELAB_CHECK_CONCURRENCY the
 * portal's check queue (default: the cores); TL_LOAD_TIMELINE=1 prints one line per
 * second (worst gap, event-loop delays, checks answered) to line stalls up with what
 * happened.
 */
import * as fs from 'fs';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import { startPortal, EventLoopSample } from './lib/portal';
import { connectOurs, TermConn } from './lib/clients';
import { table, sleep, summarize, fmt } from './lib/stats';
import { below, report } from './lib/summary';
import { REPO_ROOT_FOR_BENCH } from './lib/where';

const TERMINALS = Number(process.env.TL_LOAD_TERMINALS || 100);
const CHECKS = Number(process.env.TL_LOAD_CHECKS || 20);
/**
 * What each shell prints. Both print a burst every 50 ms with bash builtins only; they
 * differ in the shape of the lines, which is what tmux's control mode pays for: it
 * writes every byte below 0x20 as `\ooo`, one printf call each (tmux 3.3a control.c),
 * and the tty turns every "\n" into "\r\n".
 *  - trace: 14 lines of 68 characters per burst (about 19 KB/s per terminal), shaped
 *    like what bpftrace, strace or a server log print: the target's workload.
 *  - numbers: `printf "%s\n" {1..300}` per burst (about 27 KB/s): 300 lines of 1-3
 *    digits, 40% of the bytes "\r\n". The worst case for control mode, kept to show
 *    where it ends: tmux alone (one control client read by `wc -c`, no portal) carries
 *    the same ~1 MB/s of it for 100 panes as the portal does.
 */
const PROFILES: { name: string; cmd: string; demandKBs: number; target: boolean }[] = process.env.TL_LOAD_CMD
  ? [{ name: 'TL_LOAD_CMD', cmd: process.env.TL_LOAD_CMD, demandKBs: NaN, target: true }]
  : [
      {
        name: 'trace-like lines',
        cmd: 'exec 3< <(sleep 100000); L=$(printf "%0.s-" {1..40}); while :; do for i in {1..14}; do printf "pid 4242 read(fd=%d) = 4096 %s\n" $((i + 10)) "$L"; done; read -t 0.05 -u 3; done',
        // 14 x (68 + "\r\n") bytes per 50 ms, at most.
        demandKBs: (14 * 70) / 0.05 / 1024,
        target: true,
      },
      {
        name: 'short numbered lines',
        cmd: 'exec 3< <(sleep 100000); while :; do printf "%s\n" {1..300}; read -t 0.05 -u 3; done',
        // 1..300 with "\r\n": 1392 bytes per 50 ms, at most.
        demandKBs: 1392 / 0.05 / 1024,
        target: false,
      },
    ].filter((p) => !process.env.TL_LOAD_PROFILE || p.name.startsWith(process.env.TL_LOAD_PROFILE));
/** Streaming before the checks start (the baseline window). */
const BEFORE_MS = 3000;
/** Streaming after the last check answered. */
const AFTER_MS = 3000;

function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  } catch {
    return 0;
  }
}

interface Gap {
  k: number;
  end: number;
  ms: number;
}

export async function run(): Promise<void> {
  for (const p of PROFILES) {
    console.log(`\n### ${TERMINALS} terminals printing ${p.name}${Number.isFinite(p.demandKBs) ? ` (each shell alone: ${p.demandKBs.toFixed(1)} KB/s)` : ''} + ${CHECKS} checks\n`);
    await once(p);
  }
}

async function once(profile: (typeof PROFILES)[number]): Promise<void> {
  const labs = path.join(REPO_ROOT_FOR_BENCH, 'test', 'fixtures', 'labs');
  const portal = await startPortal(labs);
  const conns: TermConn[] = [];
  let peak = rssKb(portal.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssKb(portal.pid))), 100);
  let eldTimer: NodeJS.Timeout | undefined;
  try {
    const users = Array.from({ length: TERMINALS }, (_, i) => `load${String(i).padStart(3, '0')}`);
    const cookies = new Map<string, string>();
    const t0 = Date.now();
    const gaps: Gap[] = [];
    const lastAt: number[] = users.map(() => 0);
    const printed: boolean[] = users.map(() => false);
    let measuring = false;
    // Attach in waves of 10 (as a class arriving), each a real login and a tmux session.
    for (let i = 0; i < users.length; i += 10) {
      await Promise.all(users.slice(i, i + 10).map(async (u, j) => {
        const k = i + j;
        const cookie = await portal.login(u);
        cookies.set(u, cookie);
        const c = await connectOurs(portal.url, cookie, 100, 30);
        c.onOutput = () => {
          const now = Date.now();
          if (measuring && lastAt[k]) {
            gaps.push({ k, end: now, ms: now - lastAt[k] });
            printed[k] = true;
          }
          lastAt[k] = now;
        };
        conns[k] = c;
      }));
    }
    const attachMs = Date.now() - t0;
    // Every shell prints steadily: ~300 lines every 50 ms, forever. Measure once every
    // one is streaming (100 shells starting loops at once is not the steady state).
    const bytes: number[] = users.map(() => 0);
    conns.forEach((c, k) => {
      const inner = c.onOutput!;
      c.onOutput = (s) => {
        bytes[k] += s.length;
        inner(s);
      };
    });
    for (const c of conns) c.send(`${profile.cmd}\r`);
    const ts = Date.now();
    while (bytes.some((b) => b < 1000) && Date.now() - ts < 30_000) await sleep(100);
    const startMs = Date.now() - ts;
    await sleep(2000);
    // A gap counts from here: a terminal silent since before the window stalled from its start.
    const tm = Date.now();
    lastAt.fill(tm);
    const bytesAtStart = bytes.slice();
    measuring = true;
    const rssStreaming = rssKb(portal.pid);
    // The portal's event-loop delay, second by second, from inside the portal.
    const eld: { at: number; max: number; p99: number; bench: number; checks: EventLoopSample['checks'] }[] = [];
    // ... and this process's own (the 100 clients): a stall it adds is not the portal's.
    const own = monitorEventLoopDelay({ resolution: 10 });
    own.enable();
    await portal.eventLoopDelay();
    eldTimer = setInterval(() => {
      const bench = own.max / 1e6;
      own.reset();
      void portal.eventLoopDelay().then((e) => eld.push({ at: Date.now(), ...e, bench }));
    }, 1000);
    await sleep(BEFORE_MS);

    // Mid-stream: 20 students press Check at once.
    const base = portal.url.replace(/\/$/, '');
    const tc = Date.now();
    const done: number[] = [];
    const results = await Promise.all(users.slice(0, CHECKS).map(async (u) => {
      try {
        const res = await fetch(`${base}/api/labs/00-hello/check`, {
          method: 'POST',
          headers: { cookie: cookies.get(u)!, Origin: base, 'Content-Type': 'application/json' },
          body: '{}',
          signal: AbortSignal.timeout(120_000),
        });
        const body = await res.json();
        done.push(Date.now());
        // Completed: the portal answered with what the check said, and stored it.
        const stored = await (await fetch(`${base}/api/labs/00-hello/check`, { headers: { cookie: cookies.get(u)! } })).json();
        // (checkedAt of the answer and of the stored row are taken a moment apart: compare what was said.)
        const same = !!stored && stored.exitCode === body.exitCode && JSON.stringify(stored.error ?? stored.result) === JSON.stringify(body.error ?? body.result);
        return { ok: res.status === 200 && same, ms: Date.now() - tc };
      } catch {
        done.push(Date.now());
        return { ok: false, ms: Date.now() - tc };
      }
    }));
    const tdone = Date.now();
    await sleep(AFTER_MS);
    const tend = Date.now();
    measuring = false;
    // What reached the browser side, per terminal, against what its shell prints alone.
    const kbEach = bytes.map((b, k) => (b - bytesAtStart[k]) / 1024 / ((tend - tm) / 1000));
    const kbps = { ...summarize(kbEach), min: Math.min(...kbEach) };
    clearInterval(eldTimer);
    eldTimer = undefined;
    for (const c of conns) c.send('\x03');

    const worst = (from: number, to: number) => gaps.filter((g) => g.end >= from && g.end < to).reduce((m, g) => Math.max(m, g.ms), 0);
    const eldMax = (from: number, to: number, which: 'max' | 'bench' = 'max') => eld.filter((e) => e.at > from && e.at <= to + 1000).reduce((m, e) => Math.max(m, e[which]), 0);
    const perTerminal = users.map((_, k) => gaps.filter((g) => g.k === k).reduce((m, g) => Math.max(m, g.ms), 0)).filter((_, k) => printed[k]);
    const pt = summarize(perTerminal);
    const longest = worst(tm, tend);
    const q = eld.length ? eld[eld.length - 1].checks : null;
    const checkMs = summarize(results.map((r) => r.ms));
    table([
      ['what', 'value'],
      ['terminals attached', `${conns.length} in ${(attachMs / 1000).toFixed(1)} s`],
      ['all streaming after', `${(startMs / 1000).toFixed(1)} s${bytes.some((b) => b < 1000) ? ' (some never started)' : ''}`],
      ['terminals that printed nothing while measured', users.length - perTerminal.length],
      ['longest stall any terminal saw', `${fmt(longest)} ms`],
      ['  before the checks / during / after', `${fmt(worst(tm, tc))} / ${fmt(worst(tc, tdone))} / ${fmt(worst(tdone, tend))} ms`],
      ['output delivered per terminal: p50 / min', `${fmt(kbps.p50)} / ${fmt(kbps.min)} KB/s${Number.isFinite(profile.demandKBs) ? ` (of ${profile.demandKBs.toFixed(1)})` : ''}`],
      ['per-terminal longest stall p50 / p95', `${fmt(pt.p50)} / ${fmt(pt.p95)} ms`],
      ['portal event-loop delay max: before / during / after', `${fmt(eldMax(tm, tc))} / ${fmt(eldMax(tc, tdone))} / ${fmt(eldMax(tdone, tend))} ms`],
      ['bench clients\' event-loop delay max: same windows', `${fmt(eldMax(tm, tc, 'bench'))} / ${fmt(eldMax(tc, tdone, 'bench'))} / ${fmt(eldMax(tdone, tend, 'bench'))} ms`],
      ['checks completed / failed', `${results.filter((r) => r.ok).length} / ${results.filter((r) => !r.ok).length}`],
      [`check latency p50 / max (${CHECKS} pressed at once)`, `${fmt(checkMs.p50)} / ${fmt(checkMs.max)} ms`],
      ['checks running at once: limit / peak', `${q ? `${q.limit} / ${q.peakRunning}` : '—'}`],
      ['portal RSS while streaming', `${(rssStreaming / 1024).toFixed(0)} MB`],
      ['portal peak RSS', `${(peak / 1024).toFixed(0)} MB`],
    ]);
    if (process.env.TL_LOAD_TIMELINE) {
      console.log('\nsecond  worst gap ending in it (ms)  portal / bench event-loop delay max (ms)  checks answered');
      for (let t = tm; t < tend; t += 1000) {
        const e = eld.find((x) => x.at > t && x.at <= t + 1000);
        const mark = t <= tc && tc < t + 1000 ? '  <- checks pressed' : '';
        console.log(`${String(((t - tm) / 1000).toFixed(0)).padStart(6)}  ${fmt(worst(t, t + 1000)).padStart(31)}  ${(e ? `${fmt(e.max)} / ${fmt(e.bench)}` : '—').padStart(40)}  ${String(done.filter((d) => d < t + 1000).length).padStart(15)}${mark}`);
      }
    }
    if (profile.target) below(`longest terminal stall (${TERMINALS} printing ${profile.name} + ${CHECKS} checks)`, longest, 1000, 'ms');
    else report({ what: `longest stall, worst case: ${profile.name} (not the target's workload)`, target: '(reported)', measured: `${longest.toFixed(2)} ms`, met: true, info: true });
  } finally {
    if (eldTimer) clearInterval(eldTimer);
    clearInterval(sampler);
    await Promise.all(conns.filter(Boolean).map((c) => c.close().catch(() => undefined)));
    await portal.stop();
  }
}
