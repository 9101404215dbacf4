/**
 * Running DTrace, gcore and mdb for the illumos-track checkers (`tracelab check
 * --track illumos`, inside the lab box built in vm/): bounded like every checker
 * process (src/check/proc.ts), parsed with dtrace.ts and mdb.ts beside this file.
 *
 * On any other OS these throw CheckEnvironmentError (exit 3) naming the fix,
 * so an illumos check never passes or fails by accident on Linux.
 */
import * as path from 'path';
import { CheckEnvironmentError } from '../types';
import { runBounded, which, BoundedResult } from '../proc';

export type IllumosTool = 'dtrace' | 'mdb' | 'gcore';

/**
 * Stand-ins for tests off illumos (test/unit/illumos-checkers.test.ts): when
 * TRACELAB_ILLUMOS_STANDINS names a directory and every tool asked for is found
 * on PATH inside it, the checkers run against those. Never set in the lab box.
 */
export function standInsFor(tools: IllumosTool[]): boolean {
  const dir = process.env.TRACELAB_ILLUMOS_STANDINS;
  if (!dir) return false;
  return tools.every((t) => which(t) === path.join(dir, t));
}

/** Throw unless this is an illumos host with the tools. */
export function requireIllumos(tools: IllumosTool[], platform: string = process.platform): void {
  if (platform !== 'sunos' && !standInsFor(tools)) {
    throw new CheckEnvironmentError(
      `the illumos track needs DTrace and mdb, which only illumos has (this is ${platform})`,
      'run the check inside the illumos lab box (cd vm && vagrant up; see vm/README.md), or use --track linux here',
    );
  }
  const missing = tools.filter((t) => !which(t));
  if (missing.length) {
    throw new CheckEnvironmentError(`${missing.join(', ')} not found on this illumos host`, 'use the tracelab lab box built from vm/ (it has them in /usr/sbin and /usr/bin)');
  }
}

export interface DScriptRun {
  /** The D script file (from the lab's pristine source, not the student's copy). */
  script: string;
  /** `-c CMD`: dtrace starts the command and exits when it does ($target is its pid). */
  command?: string;
  /** `-p PID`: trace a running process ($target). */
  pid?: number;
  /** `-Z`: allow probes that do not exist yet (dtrace-provider's, created after node starts). */
  allowMissing?: boolean;
  /** Extra macro arguments ($1, $2...). */
  args?: string[];
}

/** dtrace's argv for a run (exported for tests: the part that can be checked off illumos). */
export function dtraceArgs(r: DScriptRun): string[] {
  if (r.command && r.pid) throw new Error('dtraceArgs: give -c or -p, not both');
  return [
    '-q',
    ...(r.allowMissing ? ['-Z'] : []),
    '-s', r.script,
    ...(r.command ? ['-c', r.command] : []),
    ...(r.pid ? ['-p', String(r.pid)] : []),
    ...(r.args || []),
  ];
}

/** Run a D script, bounded; the caller parses stdout (parseHistograms, parseCounts, parseStacks). */
export async function runDScript(r: DScriptRun, opts: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<BoundedResult> {
  requireIllumos(['dtrace']);
  return runBounded('dtrace', dtraceArgs(r), { timeoutMs: opts.timeoutMs, cwd: opts.cwd, env: opts.env, untrusted: false });
}

/** `gcore -o DIR/core PID`; resolves the core's path (DIR/core.PID). Cores are large: the caller deletes it. */
export async function gcore(pid: number, dir: string, timeoutMs: number): Promise<string> {
  requireIllumos(['gcore']);
  const r = await runBounded('gcore', ['-o', path.join(dir, 'core'), String(pid)], { timeoutMs, untrusted: false });
  if (r.code !== 0) throw new Error(`gcore ${pid} failed: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
  return path.join(dir, `core.${pid}`);
}

/** The dcmds mdb reads on stdin: mdb_v8 first when asked, then the commands. */
export function mdbInput(commands: string[], loadV8 = true): string {
  return [...(loadV8 ? ['::load v8'] : []), ...commands, '$q', ''].join('\n');
}

/** Run dcmds against a core (or a live pid); the caller parses stdout (parseFindJsObjects, parseJsPrint). */
export async function runMdb(target: string, commands: string[], opts: { timeoutMs: number; loadV8?: boolean }): Promise<BoundedResult> {
  requireIllumos(['mdb']);
  return runBounded('mdb', [target], { timeoutMs: opts.timeoutMs, input: mdbInput(commands, opts.loadV8 !== false), untrusted: false });
}
