/**
 * Load: 100 concurrent terminals streaming output, plus 20 simultaneous checks, on one
 * machine, against the portal in its own process. Reports the longest stall any
 * terminal saw (largest gap between two output frames while its shell was printing),
 * checks completed vs failed, and the portal's peak RSS. Bounded (about a minute) and
 * cleans up (clients, portal, the data dir's tmux server).
 *
 * The checks are `tracelab check` of the fixture lab, which has no checker: each is a
 * real CLI process started through LabHost.exec and a stored result, not a tracing run
 * (20 concurrent bpftrace checks on 2 cores measure bpftrace, not the portal).
 */
import * as fs from 'fs';
import * as path from 'path';
import { startPortal } from './lib/portal';
import { connectOurs, TermConn } from './lib/clients';
import { table, sleep, summarize, fmt } from './lib/stats';
import { REPO_ROOT_FOR_BENCH } from './lib/where';

const TERMINALS = Number(process.env.TL_LOAD_TERMINALS || 100);
const CHECKS = Number(process.env.TL_LOAD_CHECKS || 20);
const STREAM_MS = 15_000;

function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  } catch {
    return 0;
  }
}

export async function run(): Promise<void> {
  const labs = path.join(REPO_ROOT_FOR_BENCH, 'test', 'fixtures', 'labs');
  const portal = await startPortal(labs);
  const conns: TermConn[] = [];
  let peak = rssKb(portal.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssKb(portal.pid))), 100);
  try {
    const users = Array.from({ length: TERMINALS }, (_, i) => `load${String(i).padStart(3, '0')}`);
    const cookies = new Map<string, string>();
    const t0 = Date.now();
    // Attach in waves of 10 (as a class arriving), each a real login and a tmux session.
    const gaps: number[][] = users.map(() => []);
    const lastAt: number[] = users.map(() => 0);
    let measuring = false;
    for (let i = 0; i < users.length; i += 10) {
      await Promise.all(users.slice(i, i + 10).map(async (u, j) => {
        const k = i + j;
        const cookie = await portal.login(u);
        cookies.set(u, cookie);
        const c = await connectOurs(portal.url, cookie, 100, 30);
        c.onOutput = () => {
          const now = Date.now();
          if (measuring && lastAt[k]) gaps[k].push(now - lastAt[k]);
          lastAt[k] = now;
        };
        conns[k] = c;
      }));
    }
    const attachMs = Date.now() - t0;
    // Every shell prints steadily: ~300 lines every 50 ms, forever.
    for (const c of conns) c.send('while :; do seq 1 300; sleep 0.05; done\r');
    await sleep(2000);
    measuring = true;
    const rssStreaming = rssKb(portal.pid);
    // Mid-stream: 20 students press Check at once.
    await sleep(3000);
    const base = portal.url.replace(/\/$/, '');
    const tc = Date.now();
    const results = await Promise.all(users.slice(0, CHECKS).map(async (u) => {
      try {
        const res = await fetch(`${base}/api/labs/00-hello/check`, {
          method: 'POST',
          headers: { cookie: cookies.get(u)!, Origin: base, 'Content-Type': 'application/json' },
          body: '{}',
          signal: AbortSignal.timeout(60_000),
        });
        const body = await res.json();
        // Completed: the portal answered with what the check said, and stored it.
        const stored = await (await fetch(`${base}/api/labs/00-hello/check`, { headers: { cookie: cookies.get(u)! } })).json();
        // (checkedAt of the answer and of the stored row are taken a moment apart: compare what was said.)
        const same = !!stored && stored.exitCode === body.exitCode && JSON.stringify(stored.error ?? stored.result) === JSON.stringify(body.error ?? body.result);
        return { ok: res.status === 200 && same, ms: Date.now() - tc };
      } catch {
        return { ok: false, ms: Date.now() - tc };
      }
    }));
    await sleep(Math.max(0, STREAM_MS - (Date.now() - tc) - 5000));
    measuring = false;
    for (const c of conns) c.send('\x03');
    const maxGap = gaps.map((g) => (g.length ? Math.max(...g) : Infinity));
    const silent = maxGap.filter((g) => g === Infinity).length;
    const worst = summarize(maxGap.filter((g) => g !== Infinity));
    const checkMs = summarize(results.map((r) => r.ms));
    table([
      ['what', 'value'],
      ['terminals attached', `${conns.length} in ${(attachMs / 1000).toFixed(1)} s`],
      ['terminals that printed nothing while measured', silent],
      ['longest stall any terminal saw', `${fmt(worst.max)} ms`],
      ['per-terminal longest stall p50 / p95', `${fmt(worst.p50)} / ${fmt(worst.p95)} ms`],
      ['checks completed / failed', `${results.filter((r) => r.ok).length} / ${results.filter((r) => !r.ok).length}`],
      ['check latency p50 / max (20 at once)', `${fmt(checkMs.p50)} / ${fmt(checkMs.max)} ms`],
      ['portal RSS while streaming', `${(rssStreaming / 1024).toFixed(0)} MB`],
      ['portal peak RSS', `${(peak / 1024).toFixed(0)} MB`],
    ]);
  } finally {
    clearInterval(sampler);
    await Promise.all(conns.filter(Boolean).map((c) => c.close().catch(() => undefined)));
    await portal.stop();
  }
}
