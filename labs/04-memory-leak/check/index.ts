/**
 * Lab 4 checker: does the student's app/leak2.js keep RSS and the V8 heap flat while
 * serving the same requests that make the lab's original grow?
 *
 * Both apps run at once, at the same request rate, for a few seconds, with the node
 * flags that let mmap stacks name JS functions. The checker samples VmRSS from /proc
 * (as a student does), logs the heap through a preload, and traces mmap with the lab's
 * own linux/mmap.bt to say which function the growth comes from. The result carries
 * the RSS and heap plots of both runs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CheckEnvironmentError, type LabChecker } from '../../../src/check/types';
import { requireTracing, runBounded, spawnGroup, delay, cleanBpftraceStderr, which } from '../../../src/check/proc';
import { sampleRss, readHeapLog, growth, type Point } from '../../../src/check/rss';
import { parseStackMap, byAppFrame } from '../../../src/check/ustack';
import { checkIllumos } from './illumos';

const APP = path.join('app', 'leak2.js');
export const RATE = 1500;
export const RUN_MS = 4000;
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
}

async function runOne(node: string, file: string, labSource: string, scratch: string, tag: string): Promise<Run> {
  const cwd = fs.mkdtempSync(path.join(scratch, tag + '-'));
  const heapLog = path.join(cwd, 'heap.log');
  const preload = path.join(__dirname, '..', '..', '..', 'src', 'check', 'heap-preload.js');
  const app = spawnGroup(node, [...NODE_FLAGS, '-r', preload, file, '--rate', String(RATE)], {
    cwd,
    env: { ...process.env, TRACELAB_HEAP_LOG: heapLog },
    maxOutputBytes: 64 * 1024,
  });
  const empty: Run = { rss: [], heap: [], mmaps: [], mappedMb: 0, output: '' };
  try {
    const rssP = sampleRss(app.pid, 100, RUN_MS);
    await delay(400);
    const stacks = path.join(cwd, 'mmap.txt');
    const bt = await runBounded('bpftrace', ['-o', stacks, path.join(labSource, 'linux', 'mmap.bt'), String(app.pid), String(TRACE_SECONDS)], {
      timeoutMs: 25_000,
      env: { ...process.env, BPFTRACE_CACHE_USER_SYMBOLS: '1' },
    });
    const rss = await rssP;
    const exited = await Promise.race([app.exited, delay(0).then(() => null)]);
    if (exited) {
      return { ...empty, rss, output: app.output(), error: `exited (${exited.signal ?? 'code ' + exited.code}) while serving: ${app.output().trim().split('\n').slice(-3).join(' | ')}` };
    }
    if (bt.code !== 0 || !fs.existsSync(stacks)) {
      return { ...empty, rss, output: app.output(), error: `bpftrace failed (${bt.timedOut ? 'timed out' : 'code ' + bt.code}): ${cleanBpftraceStderr(bt.stderr).slice(0, 400)}` };
    }
    const entries = parseStackMap(fs.readFileSync(stacks, 'utf8'));
    const isApp = (f: string) => / \S*leak2\.js:\d+(:\d+)?$/.test(f);
    const mmaps = byAppFrame(entries, isApp);
    const mappedMb = mmaps.reduce((s, m) => s + m.value, 0) / 1048576;
    // The heap log runs on until the app is stopped; plot the same window as RSS.
    const heap = readHeapLog(heapLog).filter(([t]) => t <= RUN_MS / 1000 + 0.05);
    return { rss, heap, mmaps, mappedMb, output: app.output() };
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
  if (ctx.track !== 'linux') {
    // The illumos track's steps (DTrace, mdb_v8) are written; its checker is not yet.
    throw new CheckEnvironmentError(`the ${ctx.lab} checker runs on the Linux track only`, 'run it on a Linux lab host: tracelab check 04-memory-leak --track linux');
  }
  await requireTracing(['bpftrace']);
  const nodePath = which('node');
  if (!nodePath) throw new CheckEnvironmentError('node is not on PATH', 'install Node.js (the lab runs the host node)');
  const node = fs.realpathSync(nodePath);
  const mine = path.join(ctx.dir, APP);
  if (!fs.existsSync(mine)) return { passed: false, steps: [{ id: 'fixed', passed: false, message: `no ${APP} in ${ctx.dir}` }] };

  ctx.log(`running the original and your leak2.js at ${RATE} requests/s for ${RUN_MS / 1000} s, tracing mmap`);
  const [before, after] = await Promise.all([
    runOne(node, path.join(ctx.labSource, APP), ctx.labSource, ctx.scratch, 'original'),
    runOne(node, mine, ctx.labSource, ctx.scratch, 'yours'),
  ]);
  if (before.error) throw new Error(`the lab's own leak2.js: ${before.error}`);

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
  if (after.error) message = `your ${APP} ${after.error}`;
  else if (rssGrowth === null || heapGrowth === null) message = `too few memory samples from your app (${after.rss.length} RSS, ${after.heap.length} heap) to judge`;
  else if (rssGrowth > MAX_RSS_GROWTH_MB || heapGrowth > MAX_HEAP_GROWTH_MB) {
    message = `RSS grew ${mb(rssGrowth)} and the heap ${mb(heapGrowth)} in ${((RUN_MS / 1000) - WARMUP_S).toFixed(0)} s (limits ${MAX_RSS_GROWTH_MB}/${MAX_HEAP_GROWTH_MB} MB)${where}`;
  } else {
    passed = true;
    message = `RSS grew ${mb(rssGrowth)} and the heap ${mb(heapGrowth)} (the original: ${mb(rssGrowthBefore)} RSS)${where.replace('mmap stacks put', 'in the original, mmap stacks put')}`;
  }
  return { passed, steps: [{ id: 'fixed', passed, message, evidence, data }] };
};

function error(r: Run): string | undefined {
  return r.error ? `  (${r.error})` : undefined;
}
