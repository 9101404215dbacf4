/**
 * Lab 2, illumos track: start app/demo.js on the students' Node 6, attach the
 * lab's own illumos/handler-timing.d (restify's dtrace-provider probes), send the
 * same requests as the Linux branch, stop dtrace (it prints a quantize() per
 * route and handler) and judge the same way:
 *
 *  probes  restify's handler probes fire (createServer({dtrace: true}) kept)
 *  fix     every handler is under SLOW_MS on 3 calls in 4, and every response is unchanged.
 *
 * Never run against real DTrace here (see vm/README.md); tested with stand-ins.
 */
import * as path from 'path';
import type { LabChecker } from '../../../src/check/types';
import { remaining, startServerApp } from '../../../src/check/labenv';
import { requireIllumos } from '../../../src/check/illumos/run';
import { parseHistograms, histogramTotal, type Histogram } from '../../../src/check/illumos/dtrace';
import { node6, startDTrace, firstLines } from '../../../src/check/illumos/lab';
import { sendRequests, warmUp, both, judge, type Bucket } from './judge';

/** "demo getfooname loadTags" (printa's key line) → "getfooname loadTags". */
export function handlerName(h: Histogram): string {
  const k = h.keys.join(' ').trim().split(/\s+/);
  return k.length >= 3 ? k.slice(1).join(' ') : k.join(' ');
}

/**
 * quantize()'s rows as [low, high) buckets: a row's value is its low edge, the next
 * row's its high edge (dtrace prints the empty row after the last full one; a last row
 * without one is a power-of-two bucket).
 */
export function quantizeBuckets(h: Histogram): Bucket[] {
  return h.buckets
    .filter((b) => Number.isFinite(b.value))
    .map((b, i, all) => ({ low: b.value, high: i + 1 < all.length ? all[i + 1].value : b.value > 0 ? b.value * 2 : b.value + 1, count: b.count }));
}

export const checkIllumos: LabChecker = async (ctx) => {
  requireIllumos(['dtrace']);
  const node = node6();
  const started = await startServerApp(node, 'demo.js', { dir: ctx.dir, deadline: ctx.deadline, log: ctx.log, note: node });
  if ('error' in started) return { passed: false, steps: both(started.error, started.evidence) };
  const { app, port } = started;

  await warmUp(port);
  ctx.log('attaching illumos/handler-timing.d');
  let trace = '';
  let wrong: string[] = [];
  try {
    // -p: dtrace also stops when demo.js dies. restify*::: matches other
    // students' servers too; route-start/handler pairs are keyed by request id,
    // and this check's requests dominate while it runs.
    const d = await startDTrace({ script: path.join(ctx.labSource, 'illumos', 'handler-timing.d'), pid: app.pid }, { timeoutMs: remaining(ctx.deadline) });
    wrong = await sendRequests(port);
    trace = await d.stop();
  } finally {
    await app.stop();
  }
  const flood = started.flooded();
  if (flood) return { passed: false, steps: both(flood, firstLines(app.output(), 10)) };

  const hists = parseHistograms(trace).filter((h) => histogramTotal(h) > 0);
  const timed = hists.map((h) => ({ name: handlerName(h), buckets: quantizeBuckets(h) }));
  const steps = judge('handler-timing.d', timed, wrong, firstLines(trace, 40));
  return { passed: steps.every((s) => s.passed), steps };
};
