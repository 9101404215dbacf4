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
import { spawnGroup, freePort, waitForPort, tail } from '../../../src/check/proc';
import { appEnv, remaining, syntaxError } from '../../../src/check/labenv';
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
  const appDir = path.join(ctx.dir, 'app');
  const bad = await syntaxError(path.join(appDir, 'demo.js'));
  if (bad) return { passed: false, steps: both(`app/demo.js does not run: ${bad.split('\n')[0]}`, bad) };

  const port = await freePort();
  ctx.log(`starting demo.js on port ${port} (${node})`);
  const app = spawnGroup(node, ['demo.js'], { cwd: appDir, env: appEnv({ PORT: String(port) }), maxOutputBytes: 64 * 1024 });
  try {
    await Promise.race([
      waitForPort(port, Math.min(15000, remaining(ctx.deadline))),
      app.exited.then((e) => {
        throw new Error(`demo.js exited (${e.signal ?? 'code ' + e.code}) before it listened on port ${port} (it must use process.env.PORT)`);
      }),
    ]);
  } catch (e) {
    await app.stop();
    return { passed: false, steps: both((e as Error).message, tail(app.output(), 15)) };
  }

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

  const hists = parseHistograms(trace).filter((h) => histogramTotal(h) > 0);
  const timed = hists.map((h) => ({ name: handlerName(h), medianUs: histogramPercentile(h, 0.5), calls: histogramTotal(h) }));
  const steps = judge('handler-timing.d', timed, wrong, firstLines(trace, 40));
  return { passed: steps.every((s) => s.passed), steps };
};
