/**
 * The peer we compare against: wetty 3.2.0 (test/bench/peers/package.json), installed
 * on first use into test/bench/peers/node_modules — never into the root, so `npm ci`
 * for tracelab itself stays lean. Installs are serialized with the project's npm lock.
 */
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { freePort, waitFor } from './stats';
import { REPO_ROOT_FOR_BENCH } from './where';

export const PEERS_DIR = path.join(REPO_ROOT_FOR_BENCH, 'test', 'bench', 'peers');
const WETTY_MAIN = path.join(PEERS_DIR, 'node_modules', 'wetty', 'build', 'main.js');

/** Install the peers if they are not there yet; returns why not, or null when ready. */
export function ensurePeers(): string | null {
  if (fs.existsSync(WETTY_MAIN) && fs.existsSync(path.join(PEERS_DIR, 'node_modules', 'node-pty', 'build', 'Release', 'pty.node'))) return null;
  console.log('bench: installing wetty 3.2.0 into test/bench/peers/node_modules (first run only)…');
  const r = spawnSync('flock', ['/tmp/tracelab-npm.lock', 'npm', 'install', '--no-audit', '--no-fund'], { cwd: PEERS_DIR, encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0) return `npm install in ${PEERS_DIR} failed (${r.status ?? r.error?.message}): ${(r.stderr || '').slice(-800)}`;
  if (!fs.existsSync(WETTY_MAIN)) return `wetty is not at ${WETTY_MAIN} after npm install`;
  return null;
}

/** socket.io-client as wetty ships it (its own client dependency). */
// Typed loosely: its types live in the peers' node_modules, outside the root's type roots.
export function socketIoClient(): { io: (url: string, opts: Record<string, unknown>) => any } {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require(require.resolve('socket.io-client', { paths: [path.join(PEERS_DIR, 'node_modules', 'wetty')] }));
}

export interface Wetty {
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/**
 * Start wetty on 127.0.0.1 running `bash --norc` directly (as root on localhost,
 * wetty 3.2 spawns `/usr/bin/env -S <command>`: no ssh, no login).
 */
export async function startWetty(): Promise<Wetty> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [WETTY_MAIN, '--port', String(port), '--host', '127.0.0.1', '--command', 'bash --norc', '--log-level', 'warn'], {
    cwd: PEERS_DIR,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_TEST_CONTEXT: '', PS1: '$ ' },
  });
  let err = '';
  child.stderr!.on('data', (b) => (err = (err + b).slice(-2000)));
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`wetty exited ${child.exitCode}: ${err}`);
      return fetch(url).then((r) => r.ok, () => false);
    }, 'wetty to answer HTTP', 20000, 100);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    pid: child.pid!,
    url,
    stop: () => stopTree(child),
  };
}

/** SIGTERM a child and every process below it (its shells), then SIGKILL leftovers. */
export async function stopTree(child: ChildProcess): Promise<void> {
  const pids = descendants(child.pid!);
  if (child.exitCode === null) {
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Every process below `pid` (from /proc). */
export function descendants(pid: number): number[] {
  const kids = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid)!.push(Number(d));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    for (const k of kids.get(stack.pop()!) ?? []) {
      out.push(k);
      stack.push(k);
    }
  }
  return out;
}

/** Unique set size of one process: the sum of its Private_* pages (smaps_rollup), in bytes. */
export function uss(pid: number): number {
  try {
    const t = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    let kb = 0;
    for (const m of t.matchAll(/^Private_(?:Clean|Dirty|Hugetlb):\s+([0-9]+) kB/gm)) kb += Number(m[1]);
    return kb * 1024;
  } catch {
    return 0;
  }
}
