/**
 * How long `tracelab check` takes for each lab on the Linux track, as the portal runs
 * it: the lab as shipped (the check fails) and with solutions/<lab> laid over it (the
 * check passes). Wall time of the CLI, bpftrace start-up and app runs included.
 */
import { spawn } from 'child_process';
import { CLI, checkedLabs, copyLab, rmCopy, solve } from '../lab/helpers';
import { table } from './lib/stats';
import { below } from './lib/summary';

const TIMEOUT_MS = 120000;

function check(lab: string, dir: string): Promise<{ secs: number; code: number | null; passed: boolean | null }> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI, 'check', lab, '--dir', dir, '--track', 'linux', '--json'], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, NODE_TEST_CONTEXT: '' } });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    const t = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(t);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      let passed: boolean | null = null;
      try {
        passed = JSON.parse(out.slice(out.indexOf('{'))).passed;
      } catch {
        // not JSON: reported as "?"
      }
      resolve({ secs, code, passed });
    });
  });
}

export async function run(): Promise<void> {
  const labs = checkedLabs();
  const rows: (string | number)[][] = [['lab (linux track)', 'as shipped s', 'verdict', 'solved s', 'verdict']];
  let worst = { lab: '', secs: 0 };
  for (const lab of labs) {
    const cells: (string | number)[] = [lab];
    for (const solved of [false, true]) {
      const dir = copyLab(lab);
      try {
        if (solved) solve(lab, dir);
        const r = await check(lab, dir);
        cells.push(r.secs, r.passed === null ? `? (exit ${r.code})` : r.passed ? 'pass' : 'fail');
        if (r.secs > worst.secs) worst = { lab: `${lab}${solved ? ' (solved)' : ''}`, secs: r.secs };
      } finally {
        rmCopy(dir);
      }
    }
    rows.push(cells);
  }
  console.log('`tracelab check <lab> --dir <copy> --track linux --json`, wall time; the copy is labs/<lab>, then labs/<lab> + solutions/<lab>.');
  table(rows);
  if (labs.length) below(`slowest lab check (${worst.lab})`, worst.secs, 10, 's');
}
