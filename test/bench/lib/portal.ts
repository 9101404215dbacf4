/**
 * Our portal for the benchmarks: lib/portal-child.js in its own process, a temp data
 * dir, logins through the real token flow, and a clean-up that kills the data dir's
 * tmux server (every student shell it started) and removes the dir.
 */
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { stopTree } from './peers';

export interface Portal {
  pid: number;
  url: string;
  dataDir: string;
  /** Log `user` in through a one-time token; resolves the Cookie header value. */
  login(user: string): Promise<string>;
  /** A fresh one-time login URL for `user` (for a browser). */
  loginUrl(user: string): Promise<string>;
  /** The pid of the data dir's tmux server (it daemonizes: not a child of the portal), or null. */
  tmuxPid(): number | null;
  /** The portal's event-loop delay (ms) since the last call (perf_hooks, inside the portal), and its check queue. */
  eventLoopDelay(): Promise<EventLoopSample>;
  stop(): Promise<void>;
}

export interface EventLoopSample {
  max: number;
  p99: number;
  mean: number;
  checks: { running: number; queued: number; limit: number; peakRunning: number };
}

export async function startPortal(labsDir: string): Promise<Portal> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bench-'));
  // An empty HOME: the student shell sources ~/.bashrc, and a developer's (pyenv init
  // here: ~1 s, a few MB per shell) would be measured instead of tracelab. wetty runs
  // `bash --norc`; this makes both a bare bash.
  const home = path.join(dataDir, 'home');
  fs.mkdirSync(home);
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'portal-child.js'), dataDir, labsDir], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_TEST_CONTEXT: '', HOME: home },
  });
  let err = '';
  child.stderr!.on('data', (b) => (err = (err + b).slice(-4000)));
  const rl = readline.createInterface({ input: child.stdout! });
  const waiting = new Map<string, (t: string) => void>();
  const eldWaiting: ((v: EventLoopSample) => void)[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`bench portal did not start in 20 s: ${err}`)), 20000);
    child.once('exit', (c) => reject(new Error(`bench portal exited ${c}: ${err}`)));
    rl.on('line', (line) => {
      if (line.startsWith('{')) {
        clearTimeout(t);
        resolve(JSON.parse(line).url);
        return;
      }
      if (line.startsWith('eld ')) {
        eldWaiting.shift()?.(JSON.parse(line.slice(4)));
        return;
      }
      const m = /^token (\S+) (\S+)$/.exec(line);
      if (m && waiting.has(m[1])) {
        waiting.get(m[1])!(m[2]);
        waiting.delete(m[1]);
      }
    });
  });
  const token = (user: string) =>
    new Promise<string>((resolve) => {
      waiting.set(user, resolve);
      child.stdin!.write(`token ${user}\n`);
    });
  const sock = path.join(dataDir, 'tmux.sock');
  return {
    pid: child.pid!,
    url,
    dataDir,
    loginUrl: async (user) => `${url}?token=${await token(user)}`,
    async login(user) {
      const res = await fetch(`${url}?token=${await token(user)}`, { redirect: 'manual' });
      if (res.status !== 302) throw new Error(`bench: login as ${user}: HTTP ${res.status}`);
      return (res.headers.get('set-cookie') || '').split(';')[0];
    },
    eventLoopDelay: () =>
      new Promise((resolve) => {
        eldWaiting.push(resolve);
        child.stdin!.write('eld\n');
      }),
    tmuxPid() {
      if (!fs.existsSync(sock)) return null;
      const r = spawnSync('tmux', ['-S', sock, 'display-message', '-p', '#{pid}'], { encoding: 'utf8' });
      const n = Number(r.stdout.trim());
      return r.status === 0 && n > 0 ? n : null;
    },
    async stop() {
      child.stdin!.end();
      await stopTree(child);
      if (fs.existsSync(sock)) spawnSync('tmux', ['-S', sock, 'kill-server'], { stdio: 'ignore' });
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
