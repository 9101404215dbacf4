/**
 * The portal as its own process for the benchmarks (so its memory is measured apart
 * from the bench): the same buildApp() that `tracelab serve` runs, listening on a free
 * port. Prints `{"url": ...}` once listening; then, for each stdin line `token USER`,
 * prints `token USER <one-time login token>` — the login flow a student's URL uses.
 * For `eld` it prints `eld {"max":..,"p99":..,"mean":..,"checks":{..}}`: the portal's event-loop delay
 * (ms) since the last `eld`, from perf_hooks inside this process (a stall measured by a
 * client could be the portal's event loop or anything between it and the shell), and
 * the check queue's counts (running, queued, limit, peakRunning).
 *
 * usage: node portal-child.js DATA_DIR LABS_DIR
 */
import * as readline from 'readline';
import { monitorEventLoopDelay } from 'perf_hooks';
import { buildApp } from '../../../portal/server/app';

async function main(): Promise<void> {
  const [dataDir, labsDir] = process.argv.slice(2);
  if (!dataDir || !labsDir) {
    console.error('usage: portal-child.js DATA_DIR LABS_DIR');
    process.exit(2);
  }
  // TRACELAB_CHECK_CONCURRENCY as `tracelab serve` reads it (unset: the queue's default, the cores).
  const n = Number(process.env.TRACELAB_CHECK_CONCURRENCY);
  const checkConcurrency = Number.isInteger(n) && n > 0 ? n : undefined;
  const portal = buildApp({ port: 0, host: '127.0.0.1', dataDir, labsDir, hostBackend: 'local', checkConcurrency }, { log: (m) => console.error(m) });
  const { url } = await portal.listen();
  console.log(JSON.stringify({ url }));
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() === 'eld') {
      const ms = (ns: number) => +(ns / 1e6).toFixed(1);
      console.log(`eld ${JSON.stringify({ max: ms(eld.max), p99: ms(eld.percentile(99)), mean: ms(eld.mean), checks: portal.checks.stats() })}`);
      eld.reset();
      return;
    }
    const m = /^token ([a-z0-9-]+)$/.exec(line.trim());
    if (m) console.log(`token ${m[1]} ${portal.issueLoginToken(m[1])}`);
  });
  // The bench closing our stdin means: stop.
  rl.on('close', () => {
    portal.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  });
}

void main();
