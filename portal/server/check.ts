/**
 * Grading in the portal: run `tracelab check` on the user's host, parse its
 * CheckResult, store it (with evidence) and hand it to the page.
 *
 * `tracelab check` exits 0 = passed, 1 = failed, 3 = the environment cannot run the
 * check (its stderr says why and how to fix it). Anything else, or output that is
 * not a CheckResult, is reported as CHECK_OUTPUT with what it printed.
 */
import { LabHost, LabHostError } from '../hosts/types';
import type { CheckResult } from '../../src/check/types';
import type { Store } from '../store';

export const CHECK_TIMEOUT_MS = 180_000;

/** The command that checks `lab` in `dir` (a remote host finds its own `tracelab`; the local ones this installation's). */
export function checkArgv(lab: string, dir: string): string[] {
  return ['tracelab', 'check', lab, '--json', '--dir', dir];
}

export interface CheckResponse {
  ok: boolean;
  lab: string;
  exitCode: number | null;
  checkedAt: number;
  result?: CheckResult;
  error?: { code: string; message: string };
}

/**
 * A command's output cut to something a person reads: all of it when short, else
 * the first lines (usually the error) and the last (usually the summary).
 */
export function tail(s: string, lines = 24, chars = 3000): string {
  const all = s.trim().split('\n');
  const t = all.length <= lines ? all.join('\n') : [...all.slice(0, 6), '…', ...all.slice(-(lines - 7))].join('\n');
  return t.length > chars ? t.slice(0, chars) + '…' : t;
}

/** Find the CheckResult JSON in stdout: the whole output, or its last line that parses as one. */
export function parseCheckOutput(stdout: string): CheckResult | null {
  const candidates = [stdout.trim(), ...stdout.trim().split('\n').reverse()];
  for (const c of candidates) {
    if (!c.startsWith('{')) continue;
    try {
      const v = JSON.parse(c);
      if (v && typeof v === 'object' && typeof v.passed === 'boolean' && Array.isArray(v.steps)) return v as CheckResult;
    } catch {
      // not this one
    }
  }
  return null;
}

/**
 * Run one check now and store its result. Called by the check queue (check-queue.ts)
 * when the check gets its slot, so `timeoutMs` counts from the start of the check.
 */
export async function runCheck(host: LabHost, store: Store, user: string, lab: string, opts: { timeoutMs?: number; lowPriority?: boolean } = {}): Promise<CheckResponse> {
  const timeoutMs = opts.timeoutMs ?? CHECK_TIMEOUT_MS;
  const dir = `${host.workspace}/${lab}`;
  let r: Awaited<ReturnType<LabHost['exec']>>;
  try {
    // Below the terminals on a local host (portal/hosts/priority.ts); a remote host ignores it.
    r = await host.exec(checkArgv(lab, dir), { timeoutMs, maxOutputBytes: 2 * 1024 * 1024, lowPriority: opts.lowPriority ?? true });
  } catch (e) {
    // The host itself failed (unreachable, gone): the attempt is still a result the
    // student and the dashboard see (the cell must not keep the previous verdict), and
    // the caller still gets the error (HTTP 503 for HOST_UNREACHABLE).
    if (e instanceof LabHostError) {
      try {
        store.addCheck({ user, lab, passed: false, exitCode: null, result: undefined, error: { code: e.code, message: e.message } });
      } catch {
        // a full data directory: the host's error is the one to report
      }
    }
    throw e;
  }
  const base = { lab, exitCode: r.code, checkedAt: Date.now() };
  let resp: CheckResponse;
  const result = r.code === 0 || r.code === 1 ? parseCheckOutput(r.stdout) : null;
  if (r.timedOut) {
    resp = { ...base, ok: false, error: { code: 'CHECK_TIMEOUT', message: `the check did not finish within ${timeoutMs / 1000} s and was stopped` } };
  } else if (result) {
    resp = { ...base, ok: true, result };
  } else if (r.code === 3) {
    resp = { ...base, ok: false, error: { code: 'CHECK_ENVIRONMENT', message: tail(r.stderr) || 'this machine cannot run the check (no message given)' } };
  } else {
    const said = tail(r.stderr) || tail(r.stdout) || '(no output)';
    resp = { ...base, ok: false, error: { code: 'CHECK_OUTPUT', message: `tracelab check exited with ${r.code ?? r.signal} without a result:\n${said}` } };
  }
  store.addCheck({ user, lab, passed: !!resp.result?.passed, exitCode: r.code, result: resp.result, error: resp.error ?? null });
  return resp;
}
