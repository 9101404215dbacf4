/**
 * Lab 2, illumos track: start app/demo.js on the students' Node 6, attach the
 * lab's own illumos/handler-timing.d (restify's dtrace-provider probes), send the
 * same requests as the Linux branch, stop dtrace (it prints a quantize() per
 * route and handler) and judge the same way:
 *
 *  probes  restify's handler probes fire (createServer({dtrace: true}) kept)
 *  fix     no handler's median is SLOW_MS or more, and every response is unchanged.
 *
 * Never run against real DTrace here (see vm/README.md); tested with stand-ins.
 */
import * as path from 'path';
import type { LabChecker } from '../../../src/check/types';
import { remaining, startServerApp } from '../../../src/check/labenv';
import { requireIllumos } from '../../../src/check/illumos/run';
import { parseHistograms, histogramPercentile, histogramTotal, type Histogram } from '../../../src/check/illumos/dtrace';
import { node6, startDTrace, firstLines } from '../../../src/check/illumos/lab';
import { sendRequests, both, judge } from './judge';

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
  const timed = hists.map((h) => ({ name: handlerName(h), medianUs: histogramPercentile(h, 0.5), calls: histogramTotal(h) }));
  const steps = judge('handler-timing.d', timed, wrong, firstLines(trace, 40));
  return { passed: steps.every((s) => s.passed), steps };
};
