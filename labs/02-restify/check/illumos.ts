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
import { parseHistograms, histogramTotal, histogramData, type Histogram } from '../../../src/check/illumos/dtrace';
import { node6, startDTrace, firstLines } from '../../../src/check/illumos/lab';
import { sendRequests, warmUp, both, judge } from './judge';

/** "demo getfooname loadTags" (printa's key line) → "getfooname loadTags". */
export function handlerName(h: Histogram): string {
  const k = h.keys.join(' ').trim().split(/\s+/);
  return k.length >= 3 ? k.slice(1).join(' ') : k.join(' ');
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
  // The same [low, high) buckets judge the handlers and draw them (as on Linux).
  const drawn = hists.map((h) => histogramData(h, handlerName(h), 'us'));
  const timed = drawn.map((d) => ({ name: d.title, buckets: d.buckets }));
  const steps = judge('handler-timing.d', timed, wrong, firstLines(trace, 40), { kind: 'histograms', items: drawn });
  return { passed: steps.every((s) => s.passed), steps };
};
