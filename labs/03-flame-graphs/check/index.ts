/**
 * Lab 3 checker: is the student's app/report.js the same report, at least 3x faster,
 * and does a fresh 97 Hz profile no longer show the hot function dominating?
 *
 * It times the lab's original and the student's app (untraced, one after the other,
 * so they do not compete for a core), then profiles both at once with the lab's own
 * linux/profile-97.bt and folds the stacks with the lab's linux/stackfold.js. The
 * result carries both flame graphs (before/after) for the page to draw side by side.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CheckEnvironmentError, type LabChecker, type StepResult } from '../../../src/check/types';
import { requireTracing, runBounded, spawnGroup, delay, cleanBpftraceStderr, which } from '../../../src/check/proc';
import { parseFolded, appSelfShares, flameTree, totalSamples, type FrameShare } from '../../../src/check/flamegraph';

const APP = path.join('app', 'report.js');
const NEEDED_SPEEDUP = 3;
/** "Dominating" = the deepest app frame in more than this share of samples. */
const DOMINATING_SHARE = 0.3;
const PROFILE_SECONDS = 2;
const NODE_FLAGS = ['--perf-basic-prof', '--interpreted-frames-native-stack', '--no-turbo-inlining'];

function nodeBin(): string {
  const p = which('node');
  if (!p) throw new CheckEnvironmentError('node is not on PATH', 'install Node.js (the lab runs the host node)');
  // bpftrace and perf need the real binary, not a symlink they might resolve twice.
  return fs.realpathSync(p);
}

interface Timed {
  output: string;
  ms: number;
  error?: string;
}

async function timeRun(node: string, file: string, cwd: string, timeoutMs: number): Promise<Timed> {
  const r = await runBounded(node, [file], { cwd, timeoutMs, maxOutputBytes: 256 * 1024 });
  if (r.timedOut) return { output: r.stdout, ms: r.durationMs, error: `did not finish within ${(timeoutMs / 1000).toFixed(1)} s` };
  if (r.code !== 0) return { output: r.stdout, ms: r.durationMs, error: `exited with ${r.signal ?? 'code ' + r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  return { output: r.stdout, ms: r.durationMs };
}

interface Profile {
  folded: string;
  error?: string;
}

/** Run `file --loop` with the perf-map flags, sample it with profile-97.bt, fold the stacks. */
async function profile(node: string, file: string, labSource: string, scratch: string, tag: string): Promise<Profile> {
  const cwd = fs.mkdtempSync(path.join(scratch, tag + '-'));
  const app = spawnGroup(node, [...NODE_FLAGS, file, '--loop'], { cwd, maxOutputBytes: 64 * 1024 });
  try {
    await delay(300);
    const early = await Promise.race([app.exited, delay(0).then(() => null)]);
    if (early) return { folded: '', error: `\`node ${APP} --loop\` exited at once: ${app.output().trim().slice(-300)}` };
    const stacks = path.join(cwd, 'stacks.txt');
    const bt = await runBounded('bpftrace', ['-o', stacks, path.join(labSource, 'linux', 'profile-97.bt'), String(app.pid), String(PROFILE_SECONDS)], {
      timeoutMs: 25_000,
      env: { ...process.env, BPFTRACE_CACHE_USER_SYMBOLS: '1' },
    });
    if (bt.code !== 0 || !fs.existsSync(stacks)) {
      return { folded: '', error: `bpftrace failed (${bt.timedOut ? 'timed out' : 'code ' + bt.code}): ${cleanBpftraceStderr(bt.stderr).slice(0, 400)}` };
    }
    const fold = await runBounded(node, [path.join(labSource, 'linux', 'stackfold.js')], {
      timeoutMs: 15_000,
      input: fs.readFileSync(stacks, 'utf8'),
      maxOutputBytes: 4 * 1024 * 1024,
    });
    if (fold.code !== 0) return { folded: '', error: `stackfold.js failed: ${fold.stderr.trim().slice(0, 300)}` };
    return { folded: fold.stdout };
  } finally {
    await app.stop();
    fs.rmSync(`/tmp/perf-${app.pid}.map`, { force: true });
    fs.rmSync(cwd, { recursive: true, force: true }); // isolate-*.log and the raw stacks
  }
}

function firstDifference(a: string, b: string): string {
  const al = a.split('\n');
  const bl = b.split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) return `line ${i + 1}: expected "${(al[i] ?? '(nothing)').slice(0, 80)}", got "${(bl[i] ?? '(nothing)').slice(0, 80)}"`;
  }
  return '';
}

function table(shares: FrameShare[]): string {
  return shares
    .slice(0, 6)
    .map((s) => `${(100 * s.share).toFixed(0).padStart(4)}%  ${s.samples.toString().padStart(5)}  ${s.name}`)
    .join('\n');
}

export const check: LabChecker = async (ctx) => {
  await requireTracing(['bpftrace']);
  const node = nodeBin();
  const original = path.join(ctx.labSource, APP);
  const mine = path.join(ctx.dir, APP);
  if (!fs.existsSync(mine)) {
    return { passed: false, steps: [{ id: 'faster', passed: false, message: `no ${APP} in ${ctx.dir}` }] };
  }
  const steps: StepResult[] = [];

  ctx.log('timing the original app/report.js');
  const before = await timeRun(node, original, ctx.scratch, 30_000);
  if (before.error) throw new Error(`the lab's own app/report.js ${before.error}`);
  ctx.log(`original: ${before.ms} ms; timing yours`);
  // Slower than the original cannot pass, so there is no point waiting much longer.
  const after = await timeRun(node, mine, ctx.scratch, before.ms + 3000);
  const speedup = before.ms / Math.max(after.ms, 1);
  const timing = `original ${before.ms} ms, yours ${after.ms} ms (${speedup.toFixed(1)}x)`;
  if (after.error) {
    steps.push({ id: 'faster', passed: false, message: `your ${APP} ${after.error}`, evidence: after.output.slice(-1000) });
  } else if (after.output !== before.output) {
    steps.push({
      id: 'faster',
      passed: false,
      message: `your report differs from the original (${firstDifference(before.output, after.output)}): a fix must keep the output`,
      evidence: after.output.slice(0, 1500),
    });
  } else if (speedup < NEEDED_SPEEDUP) {
    steps.push({
      id: 'faster',
      passed: false,
      message: `same report, but only ${speedup.toFixed(1)}x faster (${timing}); it needs ${NEEDED_SPEEDUP}x: look at the widest frame in the flame graph`,
      evidence: timing,
    });
  } else {
    steps.push({ id: 'faster', passed: true, message: `same report, ${speedup.toFixed(1)}x faster (${timing})`, evidence: timing });
  }

  ctx.log(`profiling both at ${97} Hz for ${PROFILE_SECONDS} s`);
  const [pb, pa] = await Promise.all([
    profile(node, original, ctx.labSource, ctx.scratch, 'before'),
    profile(node, mine, ctx.labSource, ctx.scratch, 'after'),
  ]);
  if (pb.error) throw new Error(`profiling the original failed: ${pb.error}`);
  const isApp = (frame: string) => / report\.js:\d+$/.test(frame) && !/^\(anonymous\) /.test(frame) && !/^again /.test(frame);
  const fb = parseFolded(pb.folded);
  const sharesBefore = appSelfShares(fb, isApp);
  const hot = sharesBefore.find((s) => s.name !== '(not in the app)');
  if (!hot) throw new Error('the profile of the original shows no frame of app/report.js (are JS frames being resolved?)');
  const graphs = [flameTree(fb, `before: the lab's report.js (${totalSamples(fb)} samples)`)];
  if (pa.error) {
    steps.push({ id: 'flat-profile', passed: false, message: `could not profile your app: ${pa.error}`, data: { kind: 'flamegraphs', items: graphs } });
    return { passed: false, steps };
  }
  const fa = parseFolded(pa.folded);
  const sharesAfter = appSelfShares(fa, isApp);
  graphs.push(flameTree(fa, `after: your report.js (${totalSamples(fa)} samples)`));
  const now = sharesAfter.find((s) => s.name === hot.name);
  const nowShare = now ? now.share : 0;
  const evidence = `before (${totalSamples(fb)} samples):\n${table(sharesBefore)}\n\nafter (${totalSamples(fa)} samples):\n${table(sharesAfter)}`;
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  steps.push({
    id: 'flat-profile',
    passed: nowShare < DOMINATING_SHARE && totalSamples(fa) > 0,
    message:
      totalSamples(fa) === 0
        ? 'the profile of your app has no samples: is it running with --loop?'
        : nowShare < DOMINATING_SHARE
          ? `${hot.name} was on CPU in ${pct(hot.share)} of samples before and is ${pct(nowShare)} now`
          : `${hot.name} is still on CPU in ${pct(nowShare)} of samples (was ${pct(hot.share)}): it still dominates the flame graph`,
    evidence,
    data: { kind: 'flamegraphs', items: graphs },
  });
  return { passed: steps.every((s) => s.passed), steps };
};
