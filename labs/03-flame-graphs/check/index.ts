/**
 * Lab 3 checker: is the student's app/report.js the same report, at least 3x faster,
 * and does a fresh 97 Hz profile no longer show the hot function dominating?
 *
 * It measures the CPU time and output of the lab's original and the student's app,
 * and profiles both (`--loop`) with the lab's own linux/profile-97.bt, folding the
 * stacks with the lab's linux/stackfold.js. The original's numbers are measured once
 * and cached. The result carries both flame graphs for the page to draw side by side.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CheckEnvironmentError, type LabChecker, type StepResult } from '../../../src/check/types';
import { requireTracing, runBounded, spawnGroup, delay, cleanBpftraceStderr, which } from '../../../src/check/proc';
import { parseFolded, appSelfShares, flameTree, totalSamples, type FrameShare } from '../../../src/check/flamegraph';
import { checkIllumos } from './illumos';

export const APP = path.join('app', 'report.js');
export const NEEDED_SPEEDUP = 3;
/** "Dominating" = the deepest app frame in more than this share of samples. */
export const DOMINATING_SHARE = 0.3;
export const PROFILE_SECONDS = 2;
// --no-short-builtin-calls: V8 otherwise copies its builtins to anonymous memory, where
// no symbol names them ([unknown] boxes); this keeps them at their Builtins_* symbols.
const NODE_FLAGS = ['--perf-basic-prof', '--interpreted-frames-native-stack', '--no-turbo-inlining', '--no-short-builtin-calls'];

function nodeBin(): string {
  const p = which('node');
  if (!p) throw new CheckEnvironmentError('node is not on PATH', 'install Node.js (the lab runs the host node)');
  // bpftrace and perf need the real binary, not a symlink they might resolve twice.
  return fs.realpathSync(p);
}

interface Timed {
  output: string;
  /** CPU seconds (user + system) of the run: unlike wall time, barely moved by a busy machine. */
  cpuMs: number;
  error?: string;
}

/** Run `node file` to completion under bash's `time`, for its output and CPU time. */
export async function timeRun(node: string, file: string, cwd: string, timeoutMs: number): Promise<Timed> {
  const r = await runBounded('bash', ['-c', 'TIMEFORMAT="tracelab-cpu %3U %3S"; time "$0" "$@"', node, file], {
    cwd,
    timeoutMs,
    maxOutputBytes: 256 * 1024,
  });
  const cpu = [...r.stderr.matchAll(/^tracelab-cpu ([0-9.]+) ([0-9.]+)$/gm)].pop();
  const cpuMs = cpu ? Math.round(1000 * (Number(cpu[1]) + Number(cpu[2]))) : NaN;
  const stderr = r.stderr.replace(/^tracelab-cpu .*$/gm, '').trim();
  if (r.timedOut) return { output: r.stdout, cpuMs, error: `did not finish within ${(timeoutMs / 1000).toFixed(1)} s` };
  if (r.code !== 0) return { output: r.stdout, cpuMs, error: `exited with ${r.signal ?? 'code ' + r.code}: ${stderr.split('\n').slice(-3).join(' | ')}` };
  if (!cpu) return { output: r.stdout, cpuMs, error: `could not measure its CPU time (${stderr.slice(0, 200)})` };
  return { output: r.stdout, cpuMs };
}

/**
 * The lab's own report.js never changes between checks, so its output, CPU time and
 * profile are measured once per (file, node) and kept: a check then runs only the
 * student's code, and takes seconds instead of many on a busy machine.
 */
interface Baseline {
  output: string;
  cpuMs: number;
  folded: string;
}

/** Keyed by everything that shapes the baseline: the app, the scripts, node, the flags. */
function baselineFile(node: string, file: string, labSource: string): string {
  const hash = crypto.createHash('sha256');
  for (const f of [file, path.join(labSource, 'linux', 'profile-97.bt'), path.join(labSource, 'linux', 'stackfold.js')]) hash.update(fs.readFileSync(f));
  const key = hash.update(node).update(fs.statSync(node).mtimeMs.toString()).update(NODE_FLAGS.join(' ')).digest('hex').slice(0, 16);
  return path.join(cacheDir(), `03-flame-graphs-${key}.json`);
}

/**
 * One cache directory per user (uid in the name, mode 0700): in class mode on one
 * machine every student's check runs as their own Unix user, and a baseline another
 * student could write would let them pass anyone's check (a huge baseline CPU time
 * makes any app look 3x faster).
 */
function cacheDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join(os.tmpdir(), `tracelab-cache-${uid}`);
}

/** Trust only files in a directory this user owns and no one else can write. */
function trusted(f: string): boolean {
  try {
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
    const d = fs.lstatSync(path.dirname(f));
    const st = fs.lstatSync(f);
    return d.isDirectory() && d.uid === uid && (d.mode & 0o077) === 0 && st.isFile() && st.uid === uid;
  } catch {
    return false;
  }
}

function loadBaseline(f: string): Baseline | null {
  if (!trusted(f)) return null;
  try {
    const b = JSON.parse(fs.readFileSync(f, 'utf8'));
    return typeof b.output === 'string' && typeof b.cpuMs === 'number' && typeof b.folded === 'string' && b.folded ? b : null;
  } catch {
    return null;
  }
}

function saveBaseline(f: string, b: Baseline): void {
  const dir = path.dirname(f);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Someone else's directory under that name (made first, to plant baselines): don't write there.
  const d = fs.lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  if (!d.isDirectory() || d.uid !== uid) return;
  if ((d.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
  const tmp = `${f}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(b));
  fs.renameSync(tmp, f);
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

export function firstDifference(a: string, b: string): string {
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
  if (ctx.track === 'illumos') return checkIllumos(ctx);
  await requireTracing(['bpftrace']);
  const node = nodeBin();
  const original = path.join(ctx.labSource, APP);
  const mine = path.join(ctx.dir, APP);
  if (!fs.existsSync(mine)) {
    return { passed: false, steps: [{ id: 'faster', passed: false, message: `no ${APP} in ${ctx.dir}` }] };
  }
  const steps: StepResult[] = [];

  const cache = baselineFile(node, original, ctx.labSource);
  let base = loadBaseline(cache);
  if (!base) {
    ctx.log('measuring the original app/report.js once (kept for later checks)');
    const [t, p] = [await timeRun(node, original, ctx.scratch, 60_000), await profile(node, original, ctx.labSource, ctx.scratch, 'before')];
    if (t.error) throw new Error(`the lab's own app/report.js ${t.error}`);
    if (p.error) throw new Error(`profiling the original failed: ${p.error}`);
    base = { output: t.output, cpuMs: t.cpuMs, folded: p.folded };
    saveBaseline(cache, base);
  }
  ctx.log(`original: ${base.cpuMs} ms of CPU; timing yours`);
  // Wall-clock cap: generous for a loaded machine, but a hung app must not hold the check.
  const after = await timeRun(node, mine, ctx.scratch, Math.max(20_000, 4 * base.cpuMs));
  const speedup = base.cpuMs / Math.max(after.cpuMs, 1);
  const timing = `CPU time: original ${base.cpuMs} ms, yours ${after.cpuMs} ms (${speedup.toFixed(1)}x)`;
  if (after.error) {
    steps.push({ id: 'faster', passed: false, message: `your ${APP} ${after.error}`, evidence: after.output.slice(-1000) || timing });
  } else if (after.output !== base.output) {
    steps.push({
      id: 'faster',
      passed: false,
      message: `your report differs from the original (${firstDifference(base.output, after.output)}): a fix must keep the output`,
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

  ctx.log(`profiling yours at 97 Hz for ${PROFILE_SECONDS} s`);
  const pa = await profile(node, mine, ctx.labSource, ctx.scratch, 'after');
  const pb = { folded: base.folded };
  const isApp = (frame: string) => / report\.js:\d+$/.test(frame) && !/^\(anonymous\) /.test(frame) && !/^again /.test(frame);
  const fb = parseFolded(pb.folded);
  const sharesBefore = appSelfShares(fb, isApp);
  const hot = sharesBefore.find((s) => s.name !== '(not in the app)');
  if (!hot) throw new Error('the profile of the original shows no frame of app/report.js (are JS frames being resolved?)');
  const graphs = [flameTree(fb, `before: the lab's report.js (${totalSamples(fb)} samples)`)];
  if (pa.error) {
    steps.push({ id: 'flat-profile', passed: false, message: `could not profile your app: ${pa.error}`, evidence: pa.error, data: { kind: 'flamegraphs', items: graphs } });
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
