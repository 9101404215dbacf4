/**
 * Warm-up checker: the questions only tracing answers. It starts the student's
 * app/echo-server.js with the HTTP probe preload, runs the lab's own
 * linux/syscount.bt and linux/server-latency.bt on it at the same time while it
 * sends a fixed mix of requests, and compares the student's answers
 * (`tracelab answer 00 STEP VALUE`) with what the traces measured.
 *
 *  busiest-syscall  the system call the server made most during the requests
 *  slowest-url      the URL with the highest mean request-to-response latency
 */
import * as path from 'path';
import * as http from 'http';
import type { LabChecker, StepResult } from '../../../src/check/types';
import { requireTracing, tail } from '../../../src/check/proc';
import { startBpftrace, parseHistograms, histStats, excerpt } from '../../../src/check/bpftrace';
import { requireLabModules, requireLinuxTrack, remaining, startServerApp } from '../../../src/check/labenv';
import { normalizeAnswer } from '../../../src/check/answers';
import { checkIllumos } from './illumos';

export const URLS = ['/page.txt', '/page.txt.sum', '/echo-server.js', '/nothere'];
export const ROUNDS = 5;

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

/** "@calls[futex]: 569" lines → counts. */
export function parseCounts(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    const r = /^@\w*\[([^\]]+)\]:\s+(\d+)\s*$/.exec(line);
    if (r) m.set(r[1], Number(r[2]));
  }
  return m;
}

/** A syscall answer: "futex", "futex(2)", "sys_futex", "sys_enter_futex". */
export function syscallName(a: string): string {
  return normalizeAnswer(a).replace(/\(\d*\)$/, '').replace(/^(tracepoint:syscalls:)?(sys_enter_|sys_)/, '');
}

/** A URL answer: "/page.txt.sum", "page.txt.sum", "http://127.0.0.1:8080/page.txt.sum". */
export function urlPath(a: string): string {
  const s = normalizeAnswer(a).replace(/^https?:\/\/[^/]+/, '');
  return s.startsWith('/') ? s : '/' + s;
}

/** The server's system calls by count, most first. */
export type SyscallCounts = [string, number][];
/** Each URL's mean latency (us) over n requests, slowest first. */
export type UrlLatencies = { url: string; mean: number; n: number }[];

/**
 * Judge the two answers against what the traces measured; shared by both tracks,
 * which differ only in their scripts' names (`ext`: "bt" or "d"); `data` is what
 * the portal draws for a right answer (the counts, the latency histograms).
 */
export function judgeAnswers(
  answers: Record<string, string>,
  counts: SyscallCounts,
  lat2: UrlLatencies,
  requests: number,
  ext: string,
  data?: { counts: StepResult['data']; latency: StepResult['data'] },
): StepResult[] {
  const steps: StepResult[] = [];
  // A tie (within 10%) at the top accepts either name: the counts vary a little per run.
  const top = counts[0][1];
  const okCalls = counts.filter(([, n]) => n >= top * 0.9).map(([name]) => name);
  const sAns = answers['busiest-syscall'];
  const scEvidence = counts.slice(0, 6).map(([n, c]) => `${n.padEnd(12)} ${c} (${(c / requests).toFixed(1)} per request)`).join('\n');
  if (!sAns) {
    steps.push({ id: 'busiest-syscall', passed: false, message: `no answer yet: trace with syscount.${ext}, then \`tracelab answer 00 busiest-syscall NAME\``, evidence: `${requests} requests traced; ${counts.length} different system calls seen` });
  } else if (okCalls.includes(syscallName(sAns))) {
    steps.push({ id: 'busiest-syscall', passed: true, message: `right: ${syscallName(sAns)}, ${(top / requests).toFixed(1)} calls per request in this run`, evidence: scEvidence, ...(data ? { data: data.counts } : {}) });
  } else {
    const seen = counts.find(([n]) => n === syscallName(sAns));
    steps.push({
      id: 'busiest-syscall',
      passed: false,
      message: `not '${sAns}': ${seen ? `the server made ${seen[1]} ${seen[0]} calls, but another call was more frequent` : 'the trace saw no such call'}; run syscount.${ext} while you send requests and read the last line`,
      evidence: `${requests} requests traced; ${counts.length} different system calls seen`,
    });
  }

  const uAns = answers['slowest-url'];
  const slowest = lat2[0];
  const latEvidence = lat2.map((l) => `${l.url.padEnd(18)} mean ~${Math.round(l.mean / 1000)} ms over ${l.n}`).join('\n');
  if (!uAns) {
    steps.push({ id: 'slowest-url', passed: false, message: `no answer yet: trace with server-latency.${ext}, then \`tracelab answer 00 slowest-url /PATH\``, evidence: `${requests} requests traced for ${lat2.length} URLs` });
  } else if (urlPath(uAns) === slowest.url.toLowerCase()) {
    steps.push({ id: 'slowest-url', passed: true, message: `right: ${slowest.url}, about ${Math.round(slowest.mean / 1000)} ms per request in this run`, evidence: latEvidence, ...(data ? { data: data.latency } : {}) });
  } else {
    steps.push({
      id: 'slowest-url',
      passed: false,
      message: `not '${uAns}': server-latency.${ext} shows another URL slower; compare the histograms' buckets (us), not one curl`,
      evidence: `${requests} requests traced for ${lat2.length} URLs`,
    });
  }
  return steps;
}

/** Both steps failed for one reason (the app would not start, the trace would not run). */
export function allFailed(message: string, evidence?: string): StepResult[] {
  return [
    { id: 'busiest-syscall', passed: false, message, evidence },
    { id: 'slowest-url', passed: false, message, evidence },
  ];
}

export const check: LabChecker = async (ctx) => {
  if (ctx.track === 'illumos') return checkIllumos(ctx);
  requireLinuxTrack(ctx.track);
  await requireTracing(['bpftrace']);
  requireLabModules(['dtrace-provider']);
  const started = await startServerApp(process.execPath, 'echo-server.js', { dir: ctx.dir, deadline: ctx.deadline, log: ctx.log, preload: ['dtrace-provider/http-probes'] });
  if ('error' in started) return { passed: false, steps: allFailed(started.error, started.evidence) };
  const { app, port } = started;

  ctx.log('attaching linux/syscount.bt and linux/server-latency.bt');
  const linux = path.join(ctx.labSource, 'linux');
  const [sc, lat] = await Promise.all([
    startBpftrace(path.join(linux, 'syscount.bt'), [String(app.pid)], { timeoutMs: remaining(ctx.deadline) }),
    startBpftrace(path.join(linux, 'server-latency.bt'), [], { timeoutMs: remaining(ctx.deadline), flags: ['-p', String(app.pid)] }),
  ]);
  let failure = '';
  try {
    for (let i = 0; i < ROUNDS; i++) for (const u of URLS) await get(port, u);
  } catch (e) {
    failure = (e as Error).message;
  }
  const [scOut, latOut] = await Promise.all([sc.stop(), lat.stop()]);
  await app.stop();
  const flood = started.flooded();
  if (flood) return { passed: false, steps: allFailed(flood, excerpt(app.output(), 10)) };
  if (failure) return { passed: false, steps: allFailed(`the server did not answer: ${failure}`, tail(app.output(), 10)) };

  const counts = [...parseCounts(scOut).entries()].sort((a, b) => b[1] - a[1]);
  const hists = parseHistograms(latOut, 'us');
  const lat2 = hists
    .map((h) => ({ url: /^@\w*\[([^,\]]+)/.exec(h.title)?.[1] ?? h.title, mean: histStats(h).mean, n: histStats(h).count }))
    .sort((a, b) => b.mean - a.mean);
  if (!counts.length || !lat2.length) {
    return {
      passed: false,
      steps: allFailed(
        `the traces saw ${counts.length ? '' : 'no system calls'}${!counts.length && !lat2.length ? ' and ' : ''}${lat2.length ? '' : 'no HTTP request/response probes (is the server started with -r dtrace-provider/http-probes?)'}`,
        excerpt(scOut + '\n' + latOut, 20),
      ),
    };
  }
  const requests = ROUNDS * URLS.length;
  // Titled [URL, client]; the unit ('us') is drawn beside the title.
  const latency = { kind: 'histograms', items: hists.map((h) => ({ ...h, title: h.title.replace(/^@us/, '') })) };
  const steps = judgeAnswers(ctx.answers, counts, lat2, requests, 'bt', { counts: { kind: 'counts', items: counts.slice(0, 10) }, latency });
  return { passed: steps.every((s) => s.passed), steps };
};
