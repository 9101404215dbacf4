/**
 * `npm run bench`: runs every test/bench/*.bench.ts (compiled to .bench.js), in name
 * order, each exporting `run(): Promise<void>` that prints its own table of numbers.
 * Benchmarks print; they never assert times. `npm run bench -- usdt` runs the
 * benchmarks whose file name contains "usdt".
 */
import * as fs from 'fs';
import * as path from 'path';

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.js'))
    .filter((f) => !filters.length || filters.some((x) => f.includes(x)))
    .sort();
  if (!files.length) {
    console.error(`bench: no benchmarks match ${filters.join(' ') || '(none found)'}`);
    process.exit(2);
  }
  const os = await import('os');
  console.log(`tracelab bench — ${new Date().toISOString()} — node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`);
  // Latency figures mean little on a busy machine: say how busy it was.
  console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  let failed = 0;
  const t0 = Date.now();
  for (const f of files) {
    console.log(`\n## ${f.replace(/\.bench\.js$/, '')}\n`);
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const mod = require(path.join(__dirname, f)) as { run(): Promise<void> };
      await mod.run();
    } catch (e) {
      failed++;
      console.log(`bench ${f} failed: ${(e as Error).stack ?? e}`);
    }
  }
  printSummary();
  console.log(`\nbench: ${files.length} benchmark files in ${((Date.now() - t0) / 1000).toFixed(0)} s${failed ? `, ${failed} failed` : ''}`);
  process.exit(failed ? 1 : 0);
}

/** One table at the end: every target a benchmark reported (lib/summary.ts), met or by how much not. */
function printSummary(): void {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { all } = require('./lib/summary') as typeof import('./lib/summary');
  const { table } = require('./lib/stats') as typeof import('./lib/stats');
  const v = all();
  if (!v.length) return;
  console.log('\n## summary vs the targets (issue 7)\n');
  table([['measure', 'target', 'measured', 'met', 'miss'], ...v.map((x) => [x.what, x.target, x.measured, x.info ? '—' : x.met ? 'yes' : 'NO', x.by ?? ''])]);
}

void main();
