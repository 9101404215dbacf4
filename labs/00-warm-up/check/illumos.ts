/**
 * Warm-up, illumos track: start app/echo-server.js on the students' Node 6
 * (its built-in node provider fires http-server-request/-response), run the
 * lab's own illumos/syscount.d and illumos/server-latency.d on it while the
 * same requests as the Linux branch are sent, and compare the answers with
 * what the traces measured (the answer matching is the Linux branch's).
 *
 * Never run against real DTrace here (see vm/README.md); tested with stand-ins.
 */
import * as http from 'http';
import * as path from 'path';
import { CheckEnvironmentError, type LabChecker } from '../../../src/check/types';
import { tail } from '../../../src/check/proc';
import { remaining, startServerApp } from '../../../src/check/labenv';
import { requireIllumos } from '../../../src/check/illumos/run';
import { parseCounts, parseHistograms, histogramTotal, histogramData, type Histogram } from '../../../src/check/illumos/dtrace';
import { node6, startDTrace, firstLines } from '../../../src/check/illumos/lab';
import { judgeAnswers, allFailed, URLS, ROUNDS } from './index';

function get(port: number, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${p} got no answer within 5 s`)));
    req.on('error', reject);
  });
}

/** The URL and client of a server-latency.d histogram: its "URL : ADDRESS" key line. */
export function latencyKey(h: Histogram): { url: string; client: string } | null {
  for (const k of h.keys) {
    const m = /^(\S+)\s*:\s*(\S+)$/.exec(k.trim());
    if (m && m[1] !== 'URL') return { url: m[1], client: m[2] };
  }
  return null;
}

/** The URL of a server-latency.d histogram. */
export function latencyUrl(h: Histogram): string | null {
  return latencyKey(h)?.url ?? null;
}

/** Mean of a power-of-two quantize(), taking each bucket at 1.5x its lower bound. */
export function quantizeMean(h: Histogram): number {
  const n = histogramTotal(h);
  return n ? h.buckets.reduce((s, b) => s + (Number.isFinite(b.value) ? b.value * 1.5 : 0) * b.count, 0) / n : 0;
}

export const checkIllumos: LabChecker = async (ctx) => {
  requireIllumos(['dtrace']);
  const node = node6();
  const started = await startServerApp(node, 'echo-server.js', { dir: ctx.dir, deadline: ctx.deadline, log: ctx.log, note: node });
  if ('error' in started) return { passed: false, steps: allFailed(started.error, started.evidence) };
  const { app, port } = started;
  let scOut = '';
  let latOut = '';
  let failure = '';
  try {
    ctx.log('running illumos/syscount.d and illumos/server-latency.d');
    const illumos = path.join(ctx.labSource, 'illumos');
    const sc = await startDTrace({ script: path.join(illumos, 'syscount.d'), pid: app.pid }, { timeoutMs: remaining(ctx.deadline) });
    const lat = await startDTrace({ script: path.join(illumos, 'server-latency.d'), pid: app.pid }, { timeoutMs: remaining(ctx.deadline) }).catch(async (e) => {
      await sc.stop();
      throw e;
    });
    try {
      for (let i = 0; i < ROUNDS; i++) for (const u of URLS) await get(port, u);
    } catch (e) {
      failure = (e as Error).message;
    }
    [scOut, latOut] = await Promise.all([sc.stop(), lat.stop()]);
  } catch (e) {
    if (!(e instanceof CheckEnvironmentError) && !/^dtrace /.test((e as Error).message)) return { passed: false, steps: allFailed((e as Error).message, tail(app.output(), 15)) };
    throw e;
  } finally {
    await app.stop();
  }
  const flood = started.flooded();
  if (flood) return { passed: false, steps: allFailed(flood, firstLines(app.output(), 10)) };
  if (failure) return { passed: false, steps: allFailed(`the server did not answer: ${failure}`, tail(app.output(), 10)) };

  const counts = parseCounts(scOut)
    .filter((r) => /^[a-z_0-9]+$/.test(r.key))
    .map((r): [string, number] => [r.key, r.value])
    .sort((a, b) => b[1] - a[1]);
  const latHists = parseHistograms(latOut).filter((h) => latencyUrl(h) !== null && histogramTotal(h) > 0);
  const lat2 = latHists.map((h) => ({ url: latencyUrl(h)!, mean: quantizeMean(h), n: histogramTotal(h) })).sort((a, b) => b.mean - a.mean);
  if (!counts.length || !lat2.length) {
    const what = [counts.length ? '' : 'no system calls', lat2.length ? '' : 'no HTTP request/response probes (node*:::http-server-*; does this node have the node provider?)'].filter(Boolean).join(' and ');
    return { passed: false, steps: allFailed(`the traces saw ${what}`, firstLines(scOut + '\n' + latOut, 20)) };
  }
  const requests = ROUNDS * URLS.length;
  // What the portal draws, in the Linux branch's shape: the counts, and a histogram
  // per URL and client titled as server-latency.bt's keys are.
  const latency = {
    kind: 'histograms',
    items: latHists.map((h) => {
      const k = latencyKey(h)!;
      return histogramData(h, `[${k.url}, ${k.client}]`, 'us');
    }),
  };
  const steps = judgeAnswers(ctx.answers, counts, lat2, requests, 'd', { counts: { kind: 'counts', items: counts.slice(0, 10) }, latency });
  return { passed: steps.every((s) => s.passed), steps };
};
