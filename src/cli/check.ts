/**
 * `tracelab check <lab> [--dir DIR] [--track linux|illumos] [--json] [--timeout S]`:
 * run a lab's checker on this host against the app in DIR. Exit status: 0 passed,
 * 1 failed, 2 usage, 3 this host cannot run the check (the message names the fix).
 */
import * as fs from 'fs';
import * as path from 'path';
import { resolveLabId, getLab, LabError } from '../labs';
import { runCheck, DEFAULT_CHECK_TIMEOUT_MS } from '../check/run';
import { stopAll } from '../check/proc';
import { CheckEnvironmentError, EXIT, type CheckResult } from '../check/types';
import type { Track } from '../../portal/hosts/types';

export const help = `usage: tracelab check <lab> [--dir DIR] [--track linux|illumos] [--json]

Run a lab's checker: it runs the lab's own tracing scripts against your app
and says, per step, what the trace showed.

  <lab>              01, 1, 01-bug-hunt or bug-hunt
  --dir DIR          your copy of the lab (default: $TRACELAB_WORKSPACE/<lab>)
  --track T          linux (bpftrace; default here) or illumos (dtrace; runs
                     only inside the illumos lab box)
  --json             print only the result as JSON
  --timeout SECONDS  stop the check after this long (default ${DEFAULT_CHECK_TIMEOUT_MS / 1000})

exit status: 0 passed, 1 failed, 2 usage error, 3 this host cannot run the
check (not root, no tracefs, bpftrace missing...; the message names the fix)`;

/** $TRACELAB_WORKSPACE/<lab>, or undefined when the variable is not set. */
export function defaultDir(labId: string): string | undefined {
  const ws = process.env.TRACELAB_WORKSPACE;
  return ws ? path.join(ws, labId) : undefined;
}

function usage(msg: string): number {
  console.error(`tracelab check: ${msg}\n\n${help}`);
  return EXIT.USAGE;
}

/** Lines of evidence shown under a passed step (a failed step shows all of its evidence). */
export const PASSED_EVIDENCE_LINES = 4;

/**
 * The human form of a result: per step a ✔/✘ line and its evidence, indented. A failed
 * step shows all its evidence (what to look at); a passed one its first few lines, so a
 * student sees what the trace showed when they were right, too, without a wall of text.
 */
export function formatResult(r: CheckResult): string {
  const out: string[] = [];
  for (const s of r.steps) {
    out.push(`${s.passed ? '✔' : '✘'} ${s.id}: ${s.message}`);
    const ev = s.evidence?.replace(/\s+$/, '');
    if (!ev) continue;
    let lines = ev.split('\n');
    if (s.passed && lines.length > PASSED_EVIDENCE_LINES) {
      const more = lines.length - PASSED_EVIDENCE_LINES;
      lines = [...lines.slice(0, PASSED_EVIDENCE_LINES), `… ${more} more line${more === 1 ? '' : 's'} (--json shows all)`];
    }
    out.push(lines.map((l) => `    │ ${l}`).join('\n'));
  }
  out.push('');
  out.push(`${r.lab}: ${r.passed ? 'PASSED' : 'NOT YET'} (${(r.durationMs / 1000).toFixed(1)} s, ${r.track} track)`);
  return out.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  let dir: string | undefined;
  let track: Track = process.platform === 'sunos' ? 'illumos' : 'linux';
  let json = false;
  let timeoutMs = DEFAULT_CHECK_TIMEOUT_MS;
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (flag === '--dir') {
      dir = value();
      if (!dir) return usage('--dir needs a directory');
    } else if (flag === '--track') {
      const t = value();
      if (t !== 'linux' && t !== 'illumos') return usage(`--track must be linux or illumos, not '${t ?? ''}'`);
      track = t;
    } else if (flag === '--json') json = true;
    else if (flag === '--timeout') {
      const s = Number(value());
      if (!Number.isFinite(s) || s <= 0 || s > 3600) return usage('--timeout must be a number of seconds (1-3600)');
      timeoutMs = s * 1000;
    } else if (a.startsWith('-')) return usage(`unknown option '${a}'`);
    else pos.push(a);
  }
  if (pos.length !== 1) return usage(pos.length ? `expected one lab, got ${pos.length}` : 'which lab? e.g. tracelab check 01');

  let labId: string;
  try {
    labId = getLab(resolveLabId(pos[0])).id;
  } catch (e) {
    if (e instanceof LabError) return usage(e.message);
    throw e;
  }
  const d = dir ?? defaultDir(labId);
  if (!d) return usage(`no --dir given and TRACELAB_WORKSPACE is not set: pass --dir pointing at your copy of ${labId}`);
  if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) return usage(`no lab directory at ${path.resolve(d)}: pass --dir pointing at your copy of ${labId}`);

  // Ctrl-C or a portal timeout must not leave a traced app or bpftrace behind.
  const onSignal = (sig: NodeJS.Signals) => {
    stopAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await runCheck(labId, {
      dir: d,
      track,
      timeoutMs,
      log: json ? () => {} : (m) => process.stderr.write(`  … ${m}\n`),
    });
    console.log(json ? JSON.stringify(result) : formatResult(result));
    return result.passed ? EXIT.PASS : EXIT.FAIL;
  } catch (e) {
    if (e instanceof CheckEnvironmentError) {
      console.error(`tracelab check: cannot check ${labId} here: ${e.message}\n  fix: ${e.fix}`);
      return EXIT.ENVIRONMENT;
    }
    if (e instanceof LabError) return usage(e.message);
    throw e;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await stopAll();
  }
}
