/**
 * Lab 3, illumos track: the same two judgements as the Linux branch, on the
 * students' Node 6 with the lab's own illumos/profile-97.d (jstack() at 97 Hz):
 *
 *  faster        same report as the lab's original, at least NEEDED_SPEEDUP x
 *                less CPU time (timed as the Linux branch does)
 *  flat-profile  the function innermost in most of the original's samples
 *                (report.js frames) is under DOMINATING_SHARE of yours
 *
 * Both apps are profiled with `--loop` for PROFILE_SECONDS, and the result carries
 * both flame graphs (the jstack() stacks folded, the Linux branch's data shape) for
 * the page to draw side by side. No baseline cache
 * here: the original is measured on every check. Never run against real DTrace
 * here (see vm/README.md); tested with stand-ins.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { LabChecker, StepResult } from '../../../src/check/types';
import { spawnGroup, delay } from '../../../src/check/proc';
import { requireIllumos } from '../../../src/check/illumos/run';
import { parseStacks } from '../../../src/check/illumos/dtrace';
import { flameTree, totalSamples, type Folded } from '../../../src/check/flamegraph';
import { node6, startDTrace, firstLines } from '../../../src/check/illumos/lab';
import { APP, NEEDED_SPEEDUP, DOMINATING_SHARE, PROFILE_SECONDS, timeRun, firstDifference } from './index';

export interface Shares {
  total: number;
  /** Innermost report.js function of each sample → share of all samples, most first. */
  top: { fn: string; samples: number; share: number }[];
}

/** jstack() frames of report.js: "isNew at /x/report.js position 1567" (Node 6) or "... line 12". */
export function reportShares(text: string): Shares {
  const stacks = parseStacks(text);
  const total = stacks.reduce((s, x) => s + x.count, 0);
  const by = new Map<string, number>();
  for (const s of stacks) {
    let fn = '(not in the app)';
    for (const f of s.frames) {
      const m = /^(.*?)\s+at\s+\S*report\.js\b/.exec(f);
      if (m && !/^\(anon\)|^\(anonymous\)|^again$/.test(m[1])) {
        fn = m[1];
        break;
      }
    }
    by.set(fn, (by.get(fn) ?? 0) + s.count);
  }
  const top = [...by.entries()].map(([fn, samples]) => ({ fn, samples, share: total ? samples / total : 0 })).sort((a, b) => b.samples - a.samples);
  return { total, top };
}

/**
 * One jstack() frame as a flame graph box: JS frames as "isNew report.js:12" (or
 * "isNew report.js@1567" for Node 6's "position N"), native ones without their +0x offset,
 * so one function is one box as in the Linux branch's stackfold.js.
 */
export function boxName(frame: string): string {
  const js = /^(.*?)\s+at\s+(\S.*?)\s+(line|position)\s+(\d+)$/.exec(frame);
  if (js) return `${js[1]} ${path.basename(js[2])}${js[3] === 'line' ? ':' : '@'}${js[4]}`;
  return frame.replace(/\+0x[0-9a-f]+$/i, '').replace(/;/g, ',');
}

/** jstack() stacks (innermost first) as folded stacks (root first), for flameTree. */
export function foldJstacks(text: string): Folded {
  const out: Folded = new Map();
  for (const s of parseStacks(text)) {
    const key = s.frames.map(boxName).reverse().join(';');
    if (key) out.set(key, (out.get(key) ?? 0) + s.count);
  }
  return out;
}

async function profile(node: string, file: string, labSource: string, scratch: string, tag: string): Promise<{ text: string; error?: string }> {
  const cwd = fs.mkdtempSync(path.join(scratch, tag + '-'));
  const app = spawnGroup(node, [file, '--loop'], { cwd, maxOutputBytes: 64 * 1024 });
  try {
    await delay(300);
    const early = await Promise.race([app.exited, delay(0).then(() => null)]);
    if (early) return { text: '', error: `\`node ${APP} --loop\` exited at once: ${app.output().trim().slice(-300)}` };
    const d = await startDTrace({ script: path.join(labSource, 'illumos', 'profile-97.d'), pid: app.pid }, { timeoutMs: PROFILE_SECONDS * 1000 + 20000 });
    await delay(PROFILE_SECONDS * 1000);
    return { text: await d.stop() };
  } finally {
    await app.stop();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

function table(s: Shares): string {
  return s.top
    .slice(0, 6)
    .map((x) => `${(100 * x.share).toFixed(0).padStart(4)}%  ${String(x.samples).padStart(5)}  ${x.fn}`)
    .join('\n');
}

export const checkIllumos: LabChecker = async (ctx) => {
  requireIllumos(['dtrace']);
  const node = node6();
  const original = path.join(ctx.labSource, APP);
  const mine = path.join(ctx.dir, APP);
  if (!fs.existsSync(mine)) return { passed: false, steps: [{ id: 'faster', passed: false, message: `no ${APP} in ${ctx.dir}` }] };
  const steps: StepResult[] = [];

  ctx.log('timing the original app/report.js and yours');
  const before = await timeRun(node, original, ctx.scratch, 120_000);
  if (before.error) throw new Error(`the lab's own app/report.js ${before.error}`);
  const after = await timeRun(node, mine, ctx.scratch, Math.max(20_000, 4 * before.cpuMs));
  const speedup = before.cpuMs / Math.max(after.cpuMs, 1);
  const timing = `CPU time: original ${before.cpuMs} ms, yours ${after.cpuMs} ms (${speedup.toFixed(1)}x)`;
  if (after.error) steps.push({ id: 'faster', passed: false, message: `your ${APP} ${after.error}`, evidence: after.output.slice(-1000) || timing });
  else if (after.output !== before.output) {
    steps.push({ id: 'faster', passed: false, message: `your report differs from the original (${firstDifference(before.output, after.output)}): a fix must keep the output`, evidence: after.output.slice(0, 1500) });
  } else if (speedup < NEEDED_SPEEDUP) {
    steps.push({ id: 'faster', passed: false, message: `same report, but only ${speedup.toFixed(1)}x faster (${timing}); it needs ${NEEDED_SPEEDUP}x: look at the widest frame in the flame graph`, evidence: timing });
  } else {
    steps.push({ id: 'faster', passed: true, message: `same report, ${speedup.toFixed(1)}x faster (${timing})`, evidence: timing });
  }

  ctx.log(`profiling the original and yours with illumos/profile-97.d for ${PROFILE_SECONDS} s each`);
  const pb = await profile(node, original, ctx.labSource, ctx.scratch, 'before');
  if (pb.error) throw new Error(`profiling the original failed: ${pb.error}`);
  const sb = reportShares(pb.text);
  const hot = sb.top.find((x) => x.fn !== '(not in the app)');
  if (!hot) throw new Error(`the profile of the original shows no frame of app/report.js (does jstack() name JS frames?): ${firstLines(pb.text, 10)}`);
  const fb = foldJstacks(pb.text);
  const graphs = [flameTree(fb, `before: the lab's report.js (${totalSamples(fb)} samples)`)];
  const pa = await profile(node, mine, ctx.labSource, ctx.scratch, 'after');
  if (pa.error) {
    steps.push({ id: 'flat-profile', passed: false, message: `could not profile your app: ${pa.error}`, evidence: pa.error, data: { kind: 'flamegraphs', items: graphs } });
    return { passed: false, steps };
  }
  const fa = foldJstacks(pa.text);
  graphs.push(flameTree(fa, `after: your report.js (${totalSamples(fa)} samples)`));
  const sa = reportShares(pa.text);
  const now = sa.top.find((x) => x.fn === hot.fn);
  const nowShare = now ? now.share : 0;
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  steps.push({
    id: 'flat-profile',
    passed: nowShare < DOMINATING_SHARE && sa.total > 0,
    message:
      sa.total === 0
        ? 'the profile of your app has no samples: is it running with --loop?'
        : nowShare < DOMINATING_SHARE
          ? `${hot.fn} was innermost in ${pct(hot.share)} of samples before and is ${pct(nowShare)} now`
          : `${hot.fn} is still innermost in ${pct(nowShare)} of samples (was ${pct(hot.share)}): it still dominates the flame graph`,
    evidence: `before (${sb.total} samples):\n${table(sb)}\n\nafter (${sa.total} samples):\n${table(sa)}`,
    data: { kind: 'flamegraphs', items: graphs },
  });
  return { passed: steps.every((s) => s.passed), steps };
};
