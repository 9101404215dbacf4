/**
 * Lab 2 checker: starts the student's app/demo.js, attaches the lab's own
 * linux/handler-timing.bt to it, sends a fixed set of requests, and judges the
 * per-handler histograms and the responses.
 *
 *  probes  restify's handler probes fire (createServer({dtrace: true}) kept)
 *  fix     every handler is under SLOW_MS on 3 calls in 4 (judge.ts), and every
 *          response is exactly what the original demo answers.
 */
import * as path from 'path';
import type { LabChecker } from '../../../src/check/types';
import { requireTracing } from '../../../src/check/proc';
import { startBpftrace, parseHistograms, histKey, excerpt } from '../../../src/check/bpftrace';
import { requireLabModules, requireLinuxTrack, remaining, startServerApp } from '../../../src/check/labenv';
import { checkIllumos } from './illumos';
import { SLOW_MS, EXPECTED, sendRequests, warmUp, both, judge } from './judge';

// Re-exported: other code took them from this module before judge.ts held them.
export { SLOW_MS, EXPECTED };

export const check: LabChecker = async (ctx) => {
  if (ctx.track === 'illumos') return checkIllumos(ctx);
  requireLinuxTrack(ctx.track);
  await requireTracing(['bpftrace']);
  requireLabModules(['restify', 'dtrace-provider']);
  const started = await startServerApp(process.execPath, 'demo.js', { dir: ctx.dir, deadline: ctx.deadline, log: ctx.log });
  if ('error' in started) return { passed: false, steps: both(started.error, started.evidence) };
  const { app, port } = started;

  await warmUp(port);
  ctx.log('attaching linux/handler-timing.bt');
  const tracer = await startBpftrace(path.join(ctx.labSource, 'linux', 'handler-timing.bt'), [], {
    timeoutMs: remaining(ctx.deadline),
    flags: ['-p', String(app.pid)],
  }).catch((e) => e as Error);
  if (tracer instanceof Error) {
    await app.stop();
    throw tracer;
  }
  const wrong = await sendRequests(port);
  const trace = await tracer.stop();
  await app.stop();
  const flood = started.flooded();
  if (flood) return { passed: false, steps: both(flood, excerpt(app.output(), 10)) };

  const hists = parseHistograms(trace, 'us');
  const timed = hists.map((h) => ({ name: histKey(h.title), buckets: h.buckets }));
  const evidence = excerpt(trace.split('\n').filter((l) => !/^Attaching/.test(l)).join('\n'), 40);
  // Titled by handler; the unit ('us') is drawn beside the title.
  const data = { kind: 'histograms', items: hists.map((h) => ({ ...h, title: histKey(h.title) })) };
  const steps = judge('handler-timing.bt', timed, wrong, evidence, data);
  return { passed: steps.every((s) => s.passed), steps };
};
