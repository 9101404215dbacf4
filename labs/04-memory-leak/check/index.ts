/**
 * Lab 4 checker: does the student's app/leak2.js keep RSS and the V8 heap flat while
 * serving the same requests that make the lab's original grow?
 *
 * Both apps run at once and do the same bounded work (`--rate RATE --requests
 * REQUESTS`), with the node flags that let mmap stacks name JS functions. Each must
 * end with the same "served N requests, B bytes" line: an app that skips the work
 * stays flat for free. The checker samples VmRSS from /proc (as a student does) until
 * that line, logs the heap through a preload, and traces mmap with the lab's own
 * linux/mmap.bt to say which function the growth comes from. If the original does not
 * grow here, nothing can be judged. The result carries the RSS and heap plots of both runs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CheckEnvironmentError, type LabChecker } from '../../../src/check/types';
import { requireTracing, runBounded, spawnGroup, delay, cleanBpftraceStderr, which } from '../../../src/check/proc';
import { readRssKb, readHeapLog, growth, type Point } from '../../../src/check/rss';
import { parseStackMap, byAppFrame } from '../../../src/check/ustack';
import { checkIllumos } from './illumos';

const APP = path.join('app', 'leak2.js');
export const RATE = 1500;
/** About 4 s of work at RATE; on a busy machine it takes longer, but it is the same work. */
export const REQUESTS = 6000;
/** A run that has not served REQUESTS by then is stopped. */
export const MAX_RUN_MS = 40_000;
export const TRACE_SECONDS = 2;
/** Growth allowed after the first second (V8 sizes its young generation then). */
export const MAX_RSS_GROWTH_MB = 20;
const MAX_HEAP_GROWTH_MB = 10;
export const WARMUP_S = 1;
export const WINDOW_S = 0.6;
const NODE_FLAGS = [
  '--perf-basic-prof',
  '--interpreted-frames-native-stack',
  // Heap growth is then mapped by the JS thread that allocates, not a GC helper thread.
  '--single-threaded-gc',
  '--no-minor-gc-task',
  '--no-turbo-inlining',
];

interface Run {
  rss: Point[];
  heap: Point[];
  mmaps: { chain: string; fn: string; value: number }[];
  mappedMb: number;
  error?: string;
  output: string;
  /** The app's "served N requests, B bytes" line; null if it never printed one. */
  served: string | null;
}

const SERVED = /^served (\d+) requests, (\d+) bytes$/m;

/** leak2.js's last line for its --requests, or null. */
export function servedLine(output: string): string | null {
  return SERVED.exec(output)?.[0] ?? null;
}

/** The app's arguments: the same bounded work for the original and the student's. */
export function appArgs(): string[] {
  return ['--rate', String(RATE), '--requests', String(REQUESTS)];
}

/** Keeps an app that has served its requests alive until stopped, so tracers can name its frames. */
export const LINGER = path.join(__dirname, 'linger.js');

/**
 * Judge the work done: the student's app must print the original's served line. A
 * missing or different line means it did less (or other) work than the original,
 * and flat memory then proves nothing. Returns the failure message, or null.
 */
export function sameWork(original: string | null, yours: string | null): string | null {
  if (!original) return null; // the caller reports the original's own failure
  if (!yours) return `your ${APP} served fewer requests: it never printed "${original}" (the original's last line for --requests ${REQUESTS})`;
  if (yours === original) return null;
  const [, n] = SERVED.exec(yours)!;
  const [, n0] = SERVED.exec(original)!;
  if (Number(n) < Number(n0)) return `your ${APP} served fewer requests: "${yours}", the original "${original}"`;
  return `your ${APP} served different pages: "${yours}", the original "${original}": a fix must serve the same pages`;
}

/** VmRSS every 100 ms until the app prints its served line, goes idle (`idle` exists) or exits, or MAX_RUN_MS. */
async function sampleUntilServed(app: { pid: number; output(): string }, idle: string): Promise<Point[]> {
  const out: Point[] = [];
  const t0 = Date.now();
  while (Date.now() - t0 <= MAX_RUN_MS) {
    const kb = readRssKb(app.pid);
    if (kb === null) break;
    out.push([Math.round((Date.now() - t0) / 10) / 100, Math.round(kb / 102.4) / 10]);
    if (servedLine(app.output()) || fs.existsSync(idle)) break;
    await delay(100);
  }
  return out;
}

async function runOne(node: string, file: string, labSource: string, scratch: string, tag: string): Promise<Run> {
  const cwd = fs.mkdtempSync(path.join(scratch, tag + '-'));
  const heapLog = path.join(cwd, 'heap.log');
  const idle = path.join(cwd, 'idle');
  const preload = path.join(__dirname, '..', '..', '..', 'src', 'check', 'heap-preload.js');
  const app = spawnGroup(node, [...NODE_FLAGS, '-r', preload, '-r', LINGER, file, ...appArgs()], {
    cwd,
    env: { ...process.env, TRACELAB_HEAP_LOG: heapLog, TRACELAB_LINGER_FILE: idle },
    maxOutputBytes: 64 * 1024,
  });
  const empty: Run = { rss: [], heap: [], mmaps: [], mappedMb: 0, output: '', served: null };
  try {
    const rssP = sampleUntilServed(app, idle);
    await delay(400);
    const stacks = path.join(cwd, 'mmap.txt');
    const bt = await runBounded('bpftrace', ['-o', stacks, path.join(labSource, 'linux', 'mmap.bt'), String(app.pid), String(TRACE_SECONDS)], {
      timeoutMs: 25_000,
      env: { ...process.env, BPFTRACE_CACHE_USER_SYMBOLS: '1' },
    });
    const rss = await rssP;
    const served = servedLine(app.output());
    const exited = await Promise.race([app.exited, delay(0).then(() => null)]);
    // Idle or exit 0 without the served line: it did less work (judged by the caller).
    if (exited && !served && (exited.code !== 0 || exited.signal)) {
      return { ...empty, rss, output: app.output(), error: `exited (${exited.signal ?? 'code ' + exited.code}) while serving: ${app.output().trim().split('\n').slice(-3).join(' | ')}` };
    }
    if (!served && !exited && !fs.existsSync(idle)) return { ...empty, rss, output: app.output(), error: `had not served ${REQUESTS} requests after ${MAX_RUN_MS / 1000} s` };
    if (bt.code !== 0 || !fs.existsSync(stacks)) {
      return { ...empty, rss, output: app.output(), error: `bpftrace failed (${bt.timedOut ? 'timed out' : 'code ' + bt.code}): ${cleanBpftraceStderr(bt.stderr).slice(0, 400)}` };
    }
    const entries = parseStackMap(fs.readFileSync(stacks, 'utf8'));
    const isApp = (f: string) => / \S*leak2\.js:\d+(:\d+)?$/.test(f);
    const mmaps = byAppFrame(entries, isApp);
    const mappedMb = mmaps.reduce((s, m) => s + m.value, 0) / 1048576;
    // The heap log runs on while the app lingers; plot the same window as RSS.
    const end = rss.length ? rss[rss.length - 1][0] : 0;
    const heap = readHeapLog(heapLog).filter(([t]) => t <= end + 0.05);
    return { rss, heap, mmaps, mappedMb, output: app.output(), served };
  } finally {
    await app.stop();
    fs.rmSync(`/tmp/perf-${app.pid}.map`, { force: true });
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

function mb(x: number | null): string {
  return x === null ? '?' : `${x.toFixed(1)} MB`;
}

function mmapSummary(r: Run): string {
  if (!r.mmaps.length) return '  (no mmap with a frame of leak2.js)';
  return r.mmaps
    .slice(0, 4)
    .map((m) => `  ${(m.value / 1048576).toFixed(1).padStart(6)} MB  ${m.chain}`)
    .join('\n');
}

export const check: LabChecker = async (ctx) => {
  if (ctx.track === 'illumos') return checkIllumos(ctx);
  await requireTracing(['bpftrace']);
  const nodePath = which('node');
  if (!nodePath) throw new CheckEnvironmentError('node is not on PATH', 'install Node.js (the lab runs the host node)');
  const node = fs.realpathSync(nodePath);
  const mine = path.join(ctx.dir, APP);
  if (!fs.existsSync(mine)) return { passed: false, steps: [{ id: 'fixed', passed: false, message: `no ${APP} in ${ctx.dir}` }] };

  ctx.log(`running the original and your leak2.js: ${REQUESTS} requests at ${RATE}/s each, tracing mmap`);
  const [before, after] = await Promise.all([
    runOne(node, path.join(ctx.labSource, APP), ctx.labSource, ctx.scratch, 'original'),
    runOne(node, mine, ctx.labSource, ctx.scratch, 'yours'),
  ]);
  if (before.error) throw new Error(`the lab's own leak2.js ${before.error}`);
  if (!before.served) throw new Error(`the lab's own leak2.js printed no "served N requests" line: ${before.output.trim().slice(-300)}`);

  const rssGrowthBefore = growth(before.rss, WARMUP_S, WINDOW_S);
  const rssGrowth = growth(after.rss, WARMUP_S, WINDOW_S);
  const heapGrowth = growth(after.heap, WARMUP_S, WINDOW_S);
  const leaker = before.mmaps[0];
  const data = {
    kind: 'charts',
    items: [
      { kind: 'series', title: 'RSS (VmRSS)', unit: 'MB', xUnit: 's', series: [{ label: 'original', points: before.rss }, { label: 'yours', points: after.rss }] },
      { kind: 'series', title: 'V8 heap used', unit: 'MB', xUnit: 's', series: [{ label: 'original', points: before.heap }, { label: 'yours', points: after.heap }] },
    ],
  };
  const evidence = [
    `served: original "${before.served}", yours "${after.served ?? '(no served line)'}"`,
    `RSS growth after ${WARMUP_S} s: original ${mb(rssGrowthBefore)}, yours ${mb(rssGrowth)} (limit ${MAX_RSS_GROWTH_MB} MB)`,
    `heap growth after ${WARMUP_S} s: original ${mb(growth(before.heap, WARMUP_S, WINDOW_S))}, yours ${mb(heapGrowth)} (limit ${MAX_HEAP_GROWTH_MB} MB)`,
    `mmap by JS stack in ${TRACE_SECONDS} s (linux/mmap.bt), original:`,
    mmapSummary(before),
    'yours:',
    error(after) ?? mmapSummary(after),
  ].join('\n');
  const where = leaker ? `; mmap stacks put ${(leaker.value / 1048576).toFixed(0)} MB under ${leaker.chain}` : '';

  let passed = false;
  let message: string;
  const work = sameWork(before.served, after.served);
  const seconds = after.rss.length ? (after.rss[after.rss.length - 1][0] - WARMUP_S).toFixed(0) : '?';
  if (after.error) message = `your ${APP} ${after.error}`;
  else if (work) message = work;
  else if (rssGrowth === null || heapGrowth === null) message = `too few memory samples from your app (${after.rss.length} RSS, ${after.heap.length} heap) to judge`;
  else if (rssGrowth > MAX_RSS_GROWTH_MB || heapGrowth > MAX_HEAP_GROWTH_MB) {
    message = `RSS grew ${mb(rssGrowth)} and the heap ${mb(heapGrowth)} in ${seconds} s (limits ${MAX_RSS_GROWTH_MB}/${MAX_HEAP_GROWTH_MB} MB)${where}`;
  } else if (rssGrowthBefore === null || rssGrowthBefore <= MAX_RSS_GROWTH_MB) {
    // Flat memory proves nothing if the leaking original is flat here too.
    message = `cannot judge on this machine: the lab's original grew only ${mb(rssGrowthBefore)} RSS serving the same ${REQUESTS} requests (it leaks more than ${MAX_RSS_GROWTH_MB} MB elsewhere); ask the instructor`;
  } else {
    passed = true;
    message = `RSS grew ${mb(rssGrowth)} and the heap ${mb(heapGrowth)} (the original: ${mb(rssGrowthBefore)} RSS)${where.replace('mmap stacks put', 'in the original, mmap stacks put')}`;
  }
  return { passed, steps: [{ id: 'fixed', passed, message, evidence, data }] };
};

function error(r: Run): string | undefined {
  return r.error ? `  (${r.error})` : undefined;
}
