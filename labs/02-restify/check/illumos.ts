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
import * as http from 'http';
import * as path from 'path';
import type { LabChecker, StepResult } from '../../../src/check/types';
import { spawnGroup, freePort, waitForPort, tail } from '../../../src/check/proc';
import { appEnv, remaining, syntaxError } from '../../../src/check/labenv';
import { requireIllumos } from '../../../src/check/illumos/run';
import { parseHistograms, histogramPercentile, histogramTotal, type Histogram } from '../../../src/check/illumos/dtrace';
import { node6, startDTrace, firstLines } from '../../../src/check/illumos/lab';
import { SLOW_MS, EXPECTED } from './index';

const ROUNDS = 8;

function get(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        if (body.length < 64 * 1024) body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${p} got no answer within 5 s`)));
    req.on('error', reject);
  });
}

/** "demo getfooname loadTags" (printa's key line) → "getfooname loadTags". */
export function handlerName(h: Histogram): string {
  const k = h.keys.join(' ').trim().split(/\s+/);
  return k.length >= 3 ? k.slice(1).join(' ') : k.join(' ');
}

function fmtUs(us: number): string {
  return us >= 1000 ? `${Math.round(us / 1000)} ms` : `${us} us`;
}

export const checkIllumos: LabChecker = async (ctx) => {
  requireIllumos(['dtrace']);
  const node = node6();
  const appDir = path.join(ctx.dir, 'app');
  const both = (message: string, evidence?: string): StepResult[] => [
    { id: 'probes', passed: false, message, evidence },
    { id: 'fix', passed: false, message, evidence },
  ];
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
  const wrong: string[] = [];
  try {
    // -p: dtrace also stops when demo.js dies. restify*::: matches other
    // students' servers too; route-start/handler pairs are keyed by request id,
    // and this check's requests dominate while it runs.
    const d = await startDTrace({ script: path.join(ctx.labSource, 'illumos', 'handler-timing.d'), pid: app.pid }, { timeoutMs: remaining(ctx.deadline) });
    try {
      for (let i = 0; i < ROUNDS; i++) {
        for (const [p, want] of Object.entries(EXPECTED)) {
          const r = await get(port, p);
          if (r.status !== 200 || r.body !== want) wrong.push(`GET ${p} -> ${r.status} ${r.body.slice(0, 200)} (expected 200 ${want})`);
        }
      }
    } catch (e) {
      wrong.push((e as Error).message);
    }
    trace = await d.stop();
  } finally {
    await app.stop();
  }

  const hists = parseHistograms(trace).filter((h) => histogramTotal(h) > 0);
  const median = (h: Histogram) => histogramPercentile(h, 0.5);
  const timing = hists.map((h) => `${handlerName(h)}: median ${fmtUs(median(h))} over ${histogramTotal(h)} calls`);
  const evidence = firstLines(trace, 40);
  if (hists.length === 0) {
    return { passed: false, steps: both('handler-timing.d saw no restify handler probes: keep createServer({dtrace: true}) and named handler functions', evidence) };
  }
  const steps: StepResult[] = [{ id: 'probes', passed: true, message: `handler-timing.d timed ${hists.length} handlers: ${hists.map(handlerName).join(', ')}`, evidence: timing.join('\n') }];
  const slow = hists.filter((h) => median(h) >= SLOW_MS * 1000).map((h) => `${handlerName(h)} took ${fmtUs(median(h))} or more per call (median)`);
  if (slow.length) {
    steps.push({ id: 'fix', passed: false, message: `${slow.join('; ')}: over the ${SLOW_MS} ms limit`, evidence: `${timing.join('\n')}\n\n${evidence}` });
  } else if (wrong.length) {
    steps.push({ id: 'fix', passed: false, message: `every handler is fast now, but the responses changed: ${wrong[0]}`, evidence: wrong.slice(0, 5).join('\n') });
  } else {
    steps.push({ id: 'fix', passed: true, message: `no handler over ${SLOW_MS} ms and all ${ROUNDS * Object.keys(EXPECTED).length} responses unchanged`, evidence: timing.join('\n') });
  }
  return { passed: steps.every((s) => s.passed), steps };
};
