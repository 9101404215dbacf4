/**
 * The portal as its own process for the benchmarks (so its memory is measured apart
 * from the bench): the same buildApp() that `tracelab serve` runs, listening on a free
 * port. Prints `{"url": ...}` once listening; then, for each stdin line `token USER`,
 * prints `token USER <one-time login token>` — the login flow a student's URL uses.
 *
 * usage: node portal-child.js DATA_DIR LABS_DIR
 */
import * as readline from 'readline';
import { buildApp } from '../../../portal/server/app';

async function main(): Promise<void> {
  const [dataDir, labsDir] = process.argv.slice(2);
  if (!dataDir || !labsDir) {
    console.error('usage: portal-child.js DATA_DIR LABS_DIR');
    process.exit(2);
  }
  const portal = buildApp({ port: 0, host: '127.0.0.1', dataDir, labsDir, hostBackend: 'local' }, { log: (m) => console.error(m) });
  const { url } = await portal.listen();
  console.log(JSON.stringify({ url }));
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
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
