/**
 * Shared by the lab tests: every lab is found from the filesystem (labs/<id> with a
 * check/index.ts), copied to a throwaway directory and judged for real.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { INSTALL_ROOT, DEFAULT_LABS_ROOT, DEFAULT_SOLUTIONS_ROOT, listLabs } from '../../src/labs';

export const CLI = path.join(INSTALL_ROOT, 'bin', 'tracelab');

/** Labs that have a checker. */
export function checkedLabs(): string[] {
  return listLabs(DEFAULT_LABS_ROOT)
    .map((l) => l.id)
    .filter((id) => fs.existsSync(path.join(DEFAULT_LABS_ROOT, id, 'check', 'index.ts')));
}

/** Generated or produced files a fresh copy must not inherit from a student's or a test's run. */
const SKIP = new Set(['node_modules', 'out', 'tmp', '.tracelab']);

/** A fresh copy of labs/<id> in a temp dir (removed by the caller with rmCopy). */
export function copyLab(id: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tracelab-labtest-${id}-`));
  const dest = path.join(dir, id);
  fs.cpSync(path.join(DEFAULT_LABS_ROOT, id), dest, {
    recursive: true,
    filter: (src) => !SKIP.has(path.basename(src)) && !/^core(\.\d+)?$/.test(path.basename(src)) && !/^isolate-.*\.log$/.test(path.basename(src)),
  });
  return dest;
}

export function rmCopy(dest: string): void {
  fs.rmSync(path.dirname(dest), { recursive: true, force: true });
}

export function solutionDir(id: string): string {
  return path.join(DEFAULT_SOLUTIONS_ROOT, id);
}

/** Apply a lab's solution: its solve.sh if it has one, else lay solutions/<id> over the copy. */
export function solve(id: string, dest: string): void {
  const sol = solutionDir(id);
  const script = path.join(sol, 'solve.sh');
  if (fs.existsSync(script)) {
    const r = spawnSync(script, [dest], { encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) throw new Error(`solve.sh failed (${r.status}): ${r.stderr}${r.stdout}`);
  } else {
    fs.cpSync(sol, dest, { recursive: true });
  }
}

export interface ExpectedFailure {
  step: string;
  message: string;
}

export function expectedFailure(id: string): ExpectedFailure | null {
  const f = path.join(solutionDir(id), 'expected-failure.json');
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as ExpectedFailure) : null;
}

export function tracelab(args: string[], opts: { env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: opts.timeout ?? 120000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Processes whose cwd or command line mentions `needle` (a temp dir): none may outlive a check. */
export function processesUsing(needle: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      let cwd = '';
      try {
        cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        /* gone or not ours */
      }
      if (cmd.includes(needle) || cwd.startsWith(needle)) found.push(`${pid}: ${cmd.trim()} (cwd ${cwd})`);
    } catch {
      /* exited while we looked */
    }
  }
  return found;
}

/** Replace `from` with `to` in a lab copy's file; an edit that changes nothing is a broken test. */
export function editFile(file: string, from: string | RegExp, to: string): void {
  const src = fs.readFileSync(file, 'utf8');
  const out = src.replace(from, to);
  if (out === src) throw new Error(`edit of ${file} changed nothing`);
  fs.writeFileSync(file, out);
}
