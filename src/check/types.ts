/**
 * The checker contract shared by every lab (labs/<id>/check/index.ts) and the
 * `tracelab check` / `tracelab answer` commands.
 *
 * A lab's checker module exports `check(ctx): Promise<CheckResult>`. It runs ON the
 * lab host: it runs the lab's own tracing scripts against the app in `ctx.dir` and
 * judges what the trace shows. It must be bounded in time (ctx.deadline), must kill
 * every process it started, and must never pass silently when a tool or privilege is
 * missing: it throws a CheckEnvironmentError (exit 3) naming the fix instead.
 */
import type { Track } from '../../portal/hosts/types';

export interface StepResult {
  /** Step id as in lab.json (e.g. "copy-is-complete"). */
  id: string;
  passed: boolean;
  /** One line: what the trace showed and what to look at. */
  message: string;
  /** A trace excerpt (kept short: at most a few KB) backing the message. */
  evidence?: string;
  /** Optional structured data for pictures in the page (histograms, RSS series, SVG paths). */
  data?: unknown;
}

export interface CheckResult {
  lab: string;
  track: Track;
  passed: boolean;
  steps: StepResult[];
  durationMs: number;
}

export interface CheckContext {
  /** Lab id, e.g. "01-bug-hunt" (the directory name under labs/). */
  lab: string;
  /** The lab directory being judged: a workspace copy, labs/<id>, or labs+solutions overlay. */
  dir: string;
  /** The pristine lab directory in the tracelab installation (scripts come from here, not from dir). */
  labSource: string;
  track: Track;
  /** Answers given with `tracelab answer` / the page, keyed by step id. */
  answers: Record<string, string>;
  /** A private scratch directory, removed after the check. */
  scratch: string;
  /** Absolute time (Date.now() scale) by which the check must be over. */
  deadline: number;
  /** Progress lines for humans (stderr in the CLI). */
  log(msg: string): void;
}

export type LabChecker = (ctx: CheckContext) => Promise<Omit<CheckResult, 'durationMs' | 'track' | 'lab'> & Partial<CheckResult>>;

/** The environment cannot run this check (no root, no tracefs, no bpftrace...). Exit code 3. */
export class CheckEnvironmentError extends Error {
  constructor(message: string, public readonly fix: string) {
    super(message);
    this.name = 'CheckEnvironmentError';
  }
}

/** Exit codes of `tracelab check`. */
export const EXIT = { PASS: 0, FAIL: 1, USAGE: 2, ENVIRONMENT: 3 } as const;
