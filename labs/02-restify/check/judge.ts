/**
 * Lab 2's judgement, shared by the Linux (index.ts) and illumos (illumos.ts)
 * branches: the same requests, the same limit, the same messages; only the
 * tracer that times the handlers differs.
 */
import * as http from 'http';
import type { StepResult } from '../../../src/check/types';

/** A handler whose median request takes this long is "slow". The buggy loadTags takes 40+ ms, the others < 1 ms. */
export const SLOW_MS = 10;
export const ROUNDS = 8;

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

/** Send every EXPECTED request ROUNDS times; returns what came back different (empty: all unchanged). */
export async function sendRequests(port: number): Promise<string[]> {
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
  return wrong;
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

/** One handler as a tracer timed it. */
export interface Timed {
  name: string;
  medianUs: number;
  calls: number;
}

/**
 * The steps, from the handlers `script` timed and the responses that changed.
 * `evidence` is the trace's excerpt; `data` (Linux) is what the portal draws.
 */
export function judge(script: string, timed: Timed[], wrong: string[], evidence: string, data?: StepResult['data']): StepResult[] {
  // Only the Linux branch has data to draw; the illumos steps carry no data key at all.
  const d = data === undefined ? {} : { data };
  if (timed.length === 0) return both(`${script} saw no restify handler probes: keep createServer({dtrace: true}) and named handler functions`, evidence);
  const timing = timed.map((h) => `${h.name}: median ${fmtUs(h.medianUs)} over ${h.calls} calls`);
  const steps: StepResult[] = [{ id: 'probes', passed: true, message: `${script} timed ${timed.length} handlers: ${timed.map((h) => h.name).join(', ')}`, evidence: timing.join('\n'), ...d }];
  const slow = timed.filter((h) => h.medianUs >= SLOW_MS * 1000).map((h) => `${h.name} took ${fmtUs(h.medianUs)} or more per call (median)`);
  if (slow.length) {
    steps.push({ id: 'fix', passed: false, message: `${slow.join('; ')}: over the ${SLOW_MS} ms limit`, evidence: `${timing.join('\n')}\n\n${evidence}`, ...d });
  } else if (wrong.length) {
    steps.push({ id: 'fix', passed: false, message: `every handler is fast now, but the responses changed: ${wrong[0]}`, evidence: wrong.slice(0, 5).join('\n') });
  } else {
    steps.push({ id: 'fix', passed: true, message: `no handler over ${SLOW_MS} ms and all ${ROUNDS * Object.keys(EXPECTED).length} responses unchanged`, evidence: timing.join('\n'), ...d });
  }
  return steps;
}
