/**
 * Lab 4, illumos track: does the student's app/leak2.js keep RSS flat while
 * serving the requests that make the lab's original grow? It runs on the
 * students' Node 6 at the Linux branch's rate and duration; RSS is sampled with
 * ps(1) (illumos has no /proc/PID/status text), and the lab's own
 * illumos/mmap.d (jstack() per mmap) says which JS function the mappings come
 * from. Judged on RSS only: the Linux branch's V8-heap log is not taken here.
 *
 * Never run against real DTrace here (see vm/README.md); tested with stand-ins.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { LabChecker } from '../../../src/check/types';
import { runBounded, spawnGroup, delay } from '../../../src/check/proc';
import { growth, type Point } from '../../../src/check/rss';
import { requireIllumos } from '../../../src/check/illumos/run';
import { parseStacks, jsFrames } from '../../../src/check/illumos/dtrace';
import { node6, startDTrace, firstLines } from '../../../src/check/illumos/lab';
import { RATE, RUN_MS, TRACE_SECONDS, MAX_RSS_GROWTH_MB, WARMUP_S, WINDOW_S } from './index';

const APP = path.join('app', 'leak2.js');

/** RSS in MB from `ps -o rss= -p PID` (kB on illumos and Linux); null once the process is gone. */
async function psRssMb(pid: number): Promise<number | null> {
  const r = await runBounded('ps', ['-o', 'rss=', '-p', String(pid)], { timeoutMs: 5000, untrusted: false });
  const kb = Number(r.stdout.trim());
  return r.code === 0 && r.stdout.trim() && Number.isFinite(kb) ? Math.round(kb / 102.4) / 10 : null;
}

/** Which JS function (innermost leak2.js frame) mapped how often, most first. */
export function mmapsByFunction(text: string): { fn: string; count: number }[] {
  const by = new Map<string, number>();
  for (const s of parseStacks(text)) {
    const f = jsFrames(s).find((j) => /leak2\.js$/.test(j.file));
    if (f) by.set(`${f.fn} (leak2.js line ${f.line})`, (by.get(`${f.fn} (leak2.js line ${f.line})`) ?? 0) + s.count);
  }
  return [...by.entries()].map(([fn, count]) => ({ fn, count })).sort((a, b) => b.count - a.count);
}

export const checkIllumos: LabChecker = async (ctx) => {
  requireIllumos(['dtrace']);
  const node = node6();
  const mine = path.join(ctx.dir, APP);
  if (!fs.existsSync(mine)) return { passed: false, steps: [{ id: 'fixed', passed: false, message: `no ${APP} in ${ctx.dir}` }] };

  ctx.log(`running your leak2.js at ${RATE} requests/s for ${RUN_MS / 1000} s, tracing mmap with illumos/mmap.d`);
  const cwd = fs.mkdtempSync(path.join(ctx.scratch, 'yours-'));
  const app = spawnGroup(node, [mine, '--rate', String(RATE)], { cwd, maxOutputBytes: 64 * 1024 });
  const rss: Point[] = [];
  let trace = '';
  let died: string | null = null;
  try {
    // RSS is sampled on its own loop so starting and stopping dtrace leave no gap.
    const t0 = Date.now();
    const sampling = (async () => {
      while (Date.now() - t0 <= RUN_MS) {
        const mb = await psRssMb(app.pid);
        if (mb === null) break;
        rss.push([Math.round((Date.now() - t0) / 10) / 100, mb]);
        await delay(100);
      }
    })();
    // mmap.d watches a window early in the run, as the Linux branch's mmap.bt.
    await delay(400);
    const tracer = await startDTrace({ script: path.join(ctx.labSource, 'illumos', 'mmap.d'), pid: app.pid }, { timeoutMs: RUN_MS + 15000 }).catch((e: Error) => e);
    if (!(tracer instanceof Error)) {
      await delay(TRACE_SECONDS * 1000);
      trace = await tracer.stop();
    }
    await sampling;
    if (tracer instanceof Error) throw tracer;
    const exited = await Promise.race([app.exited, delay(0).then(() => null)]);
    if (exited) died = `exited (${exited.signal ?? 'code ' + exited.code}) while serving: ${app.output().trim().split('\n').slice(-3).join(' | ')}`;
  } finally {
    await app.stop();
    fs.rmSync(cwd, { recursive: true, force: true });
  }

  const mmaps = mmapsByFunction(trace);
  const rssGrowth = growth(rss, WARMUP_S, WINDOW_S);
  const mb = (x: number | null) => (x === null ? '?' : `${x.toFixed(1)} MB`);
  const where = mmaps.length ? `; mmap.d counted ${mmaps[0].count} mmaps under ${mmaps[0].fn}` : '';
  const evidence = [
    `RSS growth after ${WARMUP_S} s: ${mb(rssGrowth)} (limit ${MAX_RSS_GROWTH_MB} MB)`,
    `RSS (s, MB): ${rss.map(([t, v]) => `${t}:${v}`).join(' ')}`,
    `mmap by JS function in ${TRACE_SECONDS} s (illumos/mmap.d):`,
    ...(mmaps.length ? mmaps.slice(0, 4).map((m) => `  ${String(m.count).padStart(6)}  ${m.fn}`) : [`  (no mmap with a frame of leak2.js)`, firstLines(trace, 10)]),
  ].join('\n');
  const data = { kind: 'charts', items: [{ kind: 'series', title: 'RSS (ps)', unit: 'MB', xUnit: 's', series: [{ label: 'yours', points: rss }] }] };
  let passed = false;
  let message: string;
  if (died) message = `your ${APP} ${died}`;
  else if (rssGrowth === null) message = `too few RSS samples from your app (${rss.length}) to judge`;
  else if (rssGrowth > MAX_RSS_GROWTH_MB) message = `RSS grew ${mb(rssGrowth)} in ${(RUN_MS / 1000 - WARMUP_S).toFixed(0)} s (limit ${MAX_RSS_GROWTH_MB} MB)${where}`;
  else {
    passed = true;
    message = `RSS grew ${mb(rssGrowth)} (limit ${MAX_RSS_GROWTH_MB} MB)${where}`;
  }
  return { passed, steps: [{ id: 'fixed', passed, message, evidence, data }] };
};
