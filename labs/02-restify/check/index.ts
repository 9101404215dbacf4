/**
 * Lab 2 checker: starts the student's app/demo.js, attaches the lab's own
 * linux/handler-timing.bt to it, sends a fixed set of requests, and judges the
 * per-handler histograms and the responses.
 *
 *  probes  restify's handler probes fire (createServer({dtrace: true}) kept)
 *  fix     no handler's median latency is over SLOW_MS, and every response is
 *          exactly what the original demo answers.
 */
import * as path from 'path';
import * as http from 'http';
import type { LabChecker, StepResult } from '../../../src/check/types';
import { requireTracing, spawnGroup, freePort, waitForPort, tail } from '../../../src/check/proc';
import { startBpftrace, parseHistograms, histKey, excerpt, type Histogram } from '../../../src/check/bpftrace';
import { appEnv, requireLabModules, syntaxError, requireLinuxTrack, remaining } from '../../../src/check/labenv';
import { checkIllumos } from './illumos';

/** A handler whose median request takes this long is "slow". The buggy loadTags takes 40+ ms, the others < 1 ms. */
export const SLOW_MS = 10;
const ROUNDS = 8;

/** What the original demo answers; a fix must not change it. */
export const EXPECTED: Record<string, string> = {
  '/foo/bar': '{"hello":"bar","tags":6000,"first":"node-0"}',
  '/foo/DTrace': '{"hello":"dtrace","tags":6000,"first":"node-0"}',
  '/ping': '{"pong":true}',
  '/echo?say=hi': '{"echo":"hi"}',
};

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

/** Median of a histogram, as the low edge of the bucket holding it (us). */
export function medianUs(h: Histogram): number {
  const total = h.buckets.reduce((a, b) => a + b.count, 0);
  let seen = 0;
  for (const b of h.buckets) {
    seen += b.count;
    if (seen * 2 >= total) return b.low;
  }
  return 0;
}

function fmtUs(us: number): string {
  return us >= 1000 ? `${Math.round(us / 1000)} ms` : `${us} us`;
}

export const check: LabChecker = async (ctx) => {
  if (ctx.track === 'illumos') return checkIllumos(ctx);
  requireLinuxTrack(ctx.track);
  await requireTracing(['bpftrace']);
  requireLabModules(['restify', 'dtrace-provider']);
  const appDir = path.join(ctx.dir, 'app');
  const both = (message: string, evidence?: string): StepResult[] => [
    { id: 'probes', passed: false, message, evidence },
    { id: 'fix', passed: false, message, evidence },
  ];
  const bad = await syntaxError(path.join(appDir, 'demo.js'));
  if (bad) return { passed: false, steps: both(`app/demo.js does not run: ${bad.split('\n')[0]}`, bad) };

  const port = await freePort();
  ctx.log(`starting demo.js on port ${port}`);
  const app = spawnGroup(process.execPath, ['demo.js'], { cwd: appDir, env: appEnv({ PORT: String(port) }), maxOutputBytes: 64 * 1024 });
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

  ctx.log('attaching linux/handler-timing.bt');
  const tracer = await startBpftrace(path.join(ctx.labSource, 'linux', 'handler-timing.bt'), [], {
    timeoutMs: remaining(ctx.deadline),
    flags: ['-p', String(app.pid)],
  }).catch((e) => e as Error);
  if (tracer instanceof Error) {
    await app.stop();
    throw tracer;
  }
  const wrong: string[] = [];
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
  const trace = await tracer.stop();
  await app.stop();

  const hists = parseHistograms(trace, 'us');
  const timing = hists.map((h) => `${histKey(h.title)}: median ${fmtUs(medianUs(h))} over ${h.buckets.reduce((a, b) => a + b.count, 0)} calls`);
  const evidence = excerpt(trace.split('\n').filter((l) => !/^Attaching/.test(l)).join('\n'), 40);
  const data = { kind: 'histograms', items: hists.map((h) => ({ ...h, title: `${histKey(h.title)} (us)` })) };
  if (hists.length === 0) {
    return {
      passed: false,
      steps: both('handler-timing.bt saw no restify handler probes: keep createServer({dtrace: true}) and named handler functions', evidence),
    };
  }
  const steps: StepResult[] = [
    { id: 'probes', passed: true, message: `handler-timing.bt timed ${hists.length} handlers: ${hists.map((h) => histKey(h.title)).join(', ')}`, evidence: timing.join('\n'), data },
  ];
  const slow = hists.filter((h) => medianUs(h) >= SLOW_MS * 1000).map((h) => `${histKey(h.title)} took ${fmtUs(medianUs(h))} or more per call (median)`);
  if (slow.length) {
    steps.push({ id: 'fix', passed: false, message: `${slow.join('; ')}: over the ${SLOW_MS} ms limit`, evidence: `${timing.join('\n')}\n\n${evidence}`, data });
  } else if (wrong.length) {
    steps.push({ id: 'fix', passed: false, message: `every handler is fast now, but the responses changed: ${wrong[0]}`, evidence: wrong.slice(0, 5).join('\n') });
  } else {
    steps.push({ id: 'fix', passed: true, message: `no handler over ${SLOW_MS} ms and all ${ROUNDS * Object.keys(EXPECTED).length} responses unchanged`, evidence: timing.join('\n'), data });
  }
  return { passed: steps.every((s) => s.passed), steps };
};
