/**
 * Lab 4, illumos track: the Linux branch's judgement on the students' Node 6. The
 * lab's original and the student's app/leak2.js run at once, doing the same bounded
 * work (`--rate RATE --requests REQUESTS`); the student's must print the original's
 * "served N requests, B bytes" line, and its RSS must stay flat while the original's
 * grows. RSS is sampled with ps(1) (illumos has no /proc/PID/status text), and the
 * lab's own illumos/mmap.d (jstack() per mmap) says which JS function the original's
 * mappings come from. Judged on RSS only: the Linux branch's V8-heap log is not
 * taken here.
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
import { RATE, REQUESTS, MAX_RUN_MS, TRACE_SECONDS, MAX_RSS_GROWTH_MB, WARMUP_S, WINDOW_S, LINGER, appArgs, servedLine, sameWork } from './index';

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

interface App {
  pid: number;
  cwd: string;
  idle: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: string | null }>;
  stop(): Promise<void>;
}

function startApp(node: string, file: string, scratch: string, tag: string): App {
  const cwd = fs.mkdtempSync(path.join(scratch, tag + '-'));
  const idle = path.join(cwd, 'idle');
  const p = spawnGroup(node, ['-r', LINGER, file, ...appArgs()], { cwd, env: { ...process.env, TRACELAB_LINGER_FILE: idle }, maxOutputBytes: 64 * 1024 });
  return { pid: p.pid, cwd, idle, output: p.output, exited: p.exited, stop: p.stop };
}

/** RSS every 100 ms until the app prints its served line, goes idle or exits, or MAX_RUN_MS. */
async function sampleUntilServed(app: App): Promise<Point[]> {
  const rss: Point[] = [];
  const t0 = Date.now();
  while (Date.now() - t0 <= MAX_RUN_MS) {
    const mb = await psRssMb(app.pid);
    if (mb === null) break;
    rss.push([Math.round((Date.now() - t0) / 10) / 100, mb]);
    if (servedLine(app.output()) || fs.existsSync(app.idle)) break;
    await delay(100);
  }
  return rss;
}

interface Run {
  rss: Point[];
  served: string | null;
  trace: string;
  error?: string;
}

/** After sampling: did the app fail (crash, or never finish)? Exit 0 or idle without the served line is judged as less work. */
async function outcome(app: App, rss: Point[], trace: string): Promise<Run> {
  const served = servedLine(app.output());
  const exited = await Promise.race([app.exited, delay(0).then(() => null)]);
  let error: string | undefined;
  if (exited && !served && (exited.code !== 0 || exited.signal)) error = `exited (${exited.signal ?? 'code ' + exited.code}) while serving: ${app.output().trim().split('\n').slice(-3).join(' | ')}`;
  else if (!served && !exited && !fs.existsSync(app.idle)) error = `had not served ${REQUESTS} requests after ${MAX_RUN_MS / 1000} s`;
  return { rss, served, trace, error };
}

async function traceWindow(app: App, labSource: string): Promise<{ stop(): Promise<string> }> {
  const d = await startDTrace({ script: path.join(labSource, 'illumos', 'mmap.d'), pid: app.pid }, { timeoutMs: MAX_RUN_MS + 15000 });
  const until = Date.now() + TRACE_SECONDS * 1000;
  return { stop: async () => (await delay(Math.max(0, until - Date.now())), d.stop()) };
}

export const checkIllumos: LabChecker = async (ctx) => {
  requireIllumos(['dtrace']);
  const node = node6();
  const mine = path.join(ctx.dir, APP);
  if (!fs.existsSync(mine)) return { passed: false, steps: [{ id: 'fixed', passed: false, message: `no ${APP} in ${ctx.dir}` }] };

  ctx.log(`running the original and your leak2.js: ${REQUESTS} requests at ${RATE}/s each, tracing mmap with illumos/mmap.d`);
  const original = startApp(node, path.join(ctx.labSource, APP), ctx.scratch, 'original');
  const yours = startApp(node, mine, ctx.scratch, 'yours');
  let before: Run;
  let after: Run;
  try {
    // RSS is sampled on its own loop so starting and stopping dtrace leave no gap.
    const sampling = [sampleUntilServed(original), sampleUntilServed(yours)];
    // mmap.d watches a window early in each run, as the Linux branch's mmap.bt; the
    // original's dtrace starts first, then yours (one at a time: each waits to be enabled).
    await delay(400);
    const tb = await traceWindow(original, ctx.labSource);
    const ta = await traceWindow(yours, ctx.labSource).catch((e: Error) => e);
    const traceBefore = await tb.stop();
    const traceAfter = ta instanceof Error ? '' : await ta.stop();
    const [rb, ra] = await Promise.all(sampling);
    before = await outcome(original, rb, traceBefore);
    after = await outcome(yours, ra, traceAfter);
    if (ta instanceof Error) after.error = after.error ?? `could not be traced: ${ta.message}`;
  } finally {
    await Promise.all([original.stop(), yours.stop()]);
    for (const a of [original, yours]) fs.rmSync(a.cwd, { recursive: true, force: true });
  }
  if (before.error) throw new Error(`the lab's own leak2.js ${before.error}`);
  if (!before.served) throw new Error(`the lab's own leak2.js printed no "served N requests" line`);

  const mmapsBefore = mmapsByFunction(before.trace);
  const mmapsAfter = mmapsByFunction(after.trace);
  const rssGrowthBefore = growth(before.rss, WARMUP_S, WINDOW_S);
  const rssGrowth = growth(after.rss, WARMUP_S, WINDOW_S);
  const mb = (x: number | null) => (x === null ? '?' : `${x.toFixed(1)} MB`);
  const where = mmapsBefore.length ? `; in the original, mmap.d counted ${mmapsBefore[0].count} mmaps under ${mmapsBefore[0].fn}` : '';
  const table = (m: { fn: string; count: number }[], trace: string) =>
    m.length ? m.slice(0, 4).map((x) => `  ${String(x.count).padStart(6)}  ${x.fn}`) : ['  (no mmap with a frame of leak2.js)', firstLines(trace, 10)];
  const evidence = [
    `served: original "${before.served}", yours "${after.served ?? '(no served line)'}"`,
    `RSS growth after ${WARMUP_S} s: original ${mb(rssGrowthBefore)}, yours ${mb(rssGrowth)} (limit ${MAX_RSS_GROWTH_MB} MB)`,
    `mmap by JS function in ${TRACE_SECONDS} s (illumos/mmap.d), original:`,
    ...table(mmapsBefore, before.trace),
    'yours:',
    ...(after.error ? [`  (${after.error})`] : table(mmapsAfter, after.trace)),
  ].join('\n');
  const data = {
    kind: 'charts',
    items: [{ kind: 'series', title: 'RSS (ps)', unit: 'MB', xUnit: 's', series: [{ label: 'original', points: before.rss }, { label: 'yours', points: after.rss }] }],
  };
  const work = sameWork(before.served, after.served);
  const seconds = after.rss.length ? (after.rss[after.rss.length - 1][0] - WARMUP_S).toFixed(0) : '?';
  let passed = false;
  let message: string;
  if (after.error) message = `your ${APP} ${after.error}`;
  else if (work) message = work;
  else if (rssGrowth === null) message = `too few RSS samples from your app (${after.rss.length}) to judge`;
  else if (rssGrowth > MAX_RSS_GROWTH_MB) message = `RSS grew ${mb(rssGrowth)} in ${seconds} s (limit ${MAX_RSS_GROWTH_MB} MB)${where.replace('in the original, ', '')}`;
  else if (rssGrowthBefore === null || rssGrowthBefore <= MAX_RSS_GROWTH_MB) {
    message = `cannot judge on this machine: the lab's original grew only ${mb(rssGrowthBefore)} RSS serving the same ${REQUESTS} requests (it leaks more than ${MAX_RSS_GROWTH_MB} MB elsewhere); ask the instructor`;
  } else {
    passed = true;
    message = `RSS grew ${mb(rssGrowth)} (the original: ${mb(rssGrowthBefore)})${where}`;
  }
  return { passed, steps: [{ id: 'fixed', passed, message, evidence, data }] };
};
