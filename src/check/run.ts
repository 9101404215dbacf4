/**
 * Runs one lab's checker: loads dist/labs/<id>/check/index.js (compiled from
 * labs/<id>/check/index.ts), gives it a CheckContext, bounds it in time, and turns
 * every way it can end — pass, fail, a missing tool, a crash, a timeout — into a
 * CheckResult or a CheckEnvironmentError. Whatever happens, every process the check
 * started is stopped before this returns.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { getLab, INSTALL_ROOT, DEFAULT_LABS_ROOT } from '../labs';
import type { Track } from '../../portal/hosts/types';
import { CheckEnvironmentError, type CheckContext, type CheckResult, type LabChecker } from './types';
import { stopAll, setContainment } from './proc';
import { Containment, type LimitEvent } from './limits';

export const DEFAULT_CHECK_TIMEOUT_MS = 120_000;

export interface RunCheckOptions {
  /** The lab directory to judge (a workspace copy, or labs/<id> with solutions laid over). */
  dir: string;
  track: Track;
  timeoutMs?: number;
  labsRoot?: string;
  log?: (msg: string) => void;
}

/** Answers given with `tracelab answer`, stored in the judged directory. */
export function answersFile(dir: string): string {
  return path.join(dir, '.tracelab', 'answers.json');
}

export function readAnswers(dir: string): Record<string, string> {
  try {
    const raw = JSON.parse(fs.readFileSync(answersFile(dir), 'utf8'));
    const out: Record<string, string> = {};
    if (raw && typeof raw === 'object') for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') out[k] = v;
    return out;
  } catch {
    return {};
  }
}

export function checkerModulePath(labId: string): string {
  return path.join(INSTALL_ROOT, 'dist', 'labs', labId, 'check', 'index.js');
}

export async function runCheck(labId: string, opts: RunCheckOptions): Promise<CheckResult> {
  const lab = getLab(labId, opts.labsRoot ?? DEFAULT_LABS_ROOT);
  const modPath = checkerModulePath(lab.id);
  if (!fs.existsSync(modPath)) {
    throw new CheckEnvironmentError(`lab ${lab.id} has no built checker (${modPath})`, 'run `npm run build` in the tracelab directory');
  }
  const dir = path.resolve(opts.dir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new CheckEnvironmentError(`no lab directory at ${dir}`, `pass --dir pointing at your copy of ${lab.id}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require(modPath) as { check?: LabChecker };
  if (typeof mod.check !== 'function') throw new Error(`${modPath} does not export check()`);

  const timeoutMs = opts.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `tracelab-check-${lab.id}-`));
  const t0 = Date.now();
  const ctx: CheckContext = {
    lab: lab.id,
    dir,
    labSource: lab.dir,
    track: opts.track,
    answers: readAnswers(dir),
    scratch,
    deadline: t0 + timeoutMs,
    log: opts.log ?? (() => {}),
  };
  let timer: NodeJS.Timeout | undefined;
  // Everything of the student's code this check starts is contained (limits.ts).
  let containment: Containment;
  try {
    containment = new Containment(dir, { scratch });
  } catch (e) {
    // Class mode refused (the app cannot run as the student): nothing ran, nothing stays.
    fs.rmSync(scratch, { recursive: true, force: true });
    throw e;
  }
  setContainment(containment);
  let result: CheckResult;
  let events: LimitEvent[] = [];
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CheckTimeout(timeoutMs)), timeoutMs);
    });
    const r = await Promise.race([mod.check(ctx), timeout]);
    result = {
      lab: lab.id,
      track: opts.track,
      passed: r.steps.length > 0 && r.steps.every((s) => s.passed) && r.passed !== false,
      steps: r.steps,
      durationMs: Date.now() - t0,
    };
  } catch (e) {
    if (e instanceof CheckEnvironmentError) throw e;
    if (!(e instanceof CheckTimeout)) ctx.log(String((e as Error).stack ?? e));
    const firstStep = lab.steps.find((s) => s.check || s.question)?.id ?? 'check';
    const message =
      e instanceof CheckTimeout
        ? `the check did not finish within ${Math.round(timeoutMs / 1000)} s (does your app hang?); everything it started was stopped`
        : `the checker failed: ${(e as Error).message}`;
    result = {
      lab: lab.id,
      track: opts.track,
      passed: false,
      steps: [{ id: firstStep, passed: false, message }],
      durationMs: Date.now() - t0,
    };
  } finally {
    clearTimeout(timer);
    await stopAll();
    events = containment.end();
    setContainment(null);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return withLimits(result, events);
}

/**
 * A check during which the student's app hit a limit fails, whatever the trace showed:
 * the extra `limits` step says which limit and that everything was stopped.
 */
export function withLimits(result: CheckResult, events: LimitEvent[]): CheckResult {
  if (!events.length) return result;
  return {
    ...result,
    passed: false,
    steps: [...result.steps, { id: 'limits', passed: false, message: events.map((e) => e.message).join('; ') }],
  };
}

class CheckTimeout extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}
