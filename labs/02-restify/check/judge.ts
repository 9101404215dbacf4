/**
 * Lab 2's judgement, shared by the Linux (index.ts) and illumos (illumos.ts)
 * branches: the same requests, the same limit, the same messages; only the
 * tracer that times the handlers differs.
 */
import * as http from 'http';
import type { StepResult } from '../../../src/check/types';

/**
 * A handler is slow when more than 1 call in 4 may have taken SLOW_MS or more (its p75,
 * at its bucket's high edge). The buggy loadTags takes 40+ ms on every call, the fixed
 * handlers well under 1 ms; but on a host as busy as a class's (load 10 on 2 cores,
 * measured), a fixed greet or echo waits 8-16 ms for a CPU on 1 call in 10, and on a
 * bad burst on 3 of 20: a p90 failed a correct fix 1 run in 5 there. A handler still
 * slow on every 3rd request, or on only one of two URLs, fails; the median did not.
 */
export const SLOW_MS = 10;
/** 10 rounds: /foo/:name's handlers run 20 times, /ping's and /echo's 10. */
export const ROUNDS = 10;
/** The share of a handler's calls that must be under SLOW_MS. */
export const FAST_SHARE = 0.75;

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

/** Send every EXPECTED request `rounds` times; returns what came back different (empty: all unchanged). */
export async function sendRequests(port: number, rounds = ROUNDS): Promise<string[]> {
  const wrong: string[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      for (const [p, want] of Object.entries(EXPECTED)) {
        const r = await get(port, p);
        if (r.status !== 200 || r.body !== want) wrong.push(`GET ${p} -> ${r.status} ${r.body.slice(0, 200)} (expected 200 ${want})`);
      }
    }
  } catch (e) {
    wrong.push((e as Error).message);
  }
  return wrong;
}

/**
 * One untimed round before the tracer attaches: a handler's first call compiles it and
 * its modules (milliseconds on a busy host), which would be counted against a fixed
 * handler's allowance of slow calls. What it answers is judged with the timed rounds.
 */
export async function warmUp(port: number): Promise<void> {
  await sendRequests(port, 1);
}

export function fmtUs(us: number): string {
  return us >= 1000 ? `${Math.round(us / 1000)} ms` : `${us} us`;
}

/** Both steps failed for one reason (the app did not start, no probes fired...). */
export function both(message: string, evidence?: string): StepResult[] {
  return [
    { id: 'probes', passed: false, message, evidence },
    { id: 'fix', passed: false, message, evidence },
  ];
}

/** One histogram bucket: calls that took [low, high) microseconds. */
export interface Bucket {
  low: number;
  high: number;
  count: number;
}

/** One handler as a tracer timed it: its histogram, in microseconds. */
export interface Timed {
  name: string;
  buckets: Bucket[];
}

/**
 * The upper edge of the bucket holding the `p`-th fraction of the calls: at least that
 * share of the calls took less than this. A histogram cannot tell 9 ms from 15 ms within
 * one [8 ms, 16 ms) bucket, so the judgement takes the bucket's high edge (a call in
 * that bucket may have taken over 10 ms), never its low edge.
 */
export function percentileHighUs(buckets: Bucket[], p: number): number {
  const total = buckets.reduce((a, b) => a + b.count, 0);
  let seen = 0;
  for (const b of buckets) {
    seen += b.count;
    if (b.count > 0 && seen >= p * total) return b.high;
  }
  return 0;
}

/** What the judgement needs from one handler's histogram. */
export function summarize(h: Timed): { name: string; calls: number; medianUs: number; p75Us: number; slowCalls: number; slowFromUs: number } {
  const calls = h.buckets.reduce((a, b) => a + b.count, 0);
  // Calls in a bucket reaching past the limit count as slow (see percentileHighUs).
  const slow = h.buckets.filter((b) => b.count > 0 && b.high > SLOW_MS * 1000);
  return {
    name: h.name,
    calls,
    medianUs: percentileHighUs(h.buckets, 0.5),
    p75Us: percentileHighUs(h.buckets, FAST_SHARE),
    slowCalls: slow.reduce((a, b) => a + b.count, 0),
    slowFromUs: slow.length ? Math.min(...slow.map((b) => b.low)) : 0,
  };
}

/**
 * The steps, from the handlers `script` timed and the responses that changed.
 * `evidence` is the trace's excerpt; `data` (histograms) is what the portal draws.
 */
export function judge(script: string, timed: Timed[], wrong: string[], evidence: string, data?: StepResult['data']): StepResult[] {
  const d = data === undefined ? {} : { data };
  const hs = timed.map(summarize).filter((h) => h.calls > 0);
  if (hs.length === 0) return both(`${script} saw no restify handler probes: keep createServer({dtrace: true}) and named handler functions`, evidence);
  const timing = hs.map((h) => `${h.name}: ${h.calls} calls, half under ${fmtUs(h.medianUs)}, 3 in 4 under ${fmtUs(h.p75Us)}`);
  const steps: StepResult[] = [{ id: 'probes', passed: true, message: `${script} timed ${hs.length} handlers: ${hs.map((h) => h.name).join(', ')}`, evidence: timing.join('\n'), ...d }];
  const slow = hs.filter((h) => h.p75Us > SLOW_MS * 1000).map((h) => `${h.name} took ${fmtUs(h.slowFromUs)} or more on ${h.slowCalls} of ${h.calls} calls`);
  if (slow.length) {
    steps.push({
      id: 'fix',
      passed: false,
      message: `${slow.join('; ')}: over the ${SLOW_MS} ms limit on more than 1 call in 4`,
      evidence: `${timing.join('\n')}\n\n${evidence}`,
      ...d,
    });
  } else if (wrong.length) {
    steps.push({ id: 'fix', passed: false, message: `every handler is fast now, but the responses changed: ${wrong[0]}`, evidence: wrong.slice(0, 5).join('\n') });
  } else {
    steps.push({ id: 'fix', passed: true, message: `every handler under ${SLOW_MS} ms on 3 calls in 4 or more, and all ${ROUNDS * Object.keys(EXPECTED).length} responses unchanged`, evidence: timing.join('\n'), ...d });
  }
  return steps;
}
