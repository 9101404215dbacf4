/**
 * Test harness for the portal: temp data dirs, logins, WebSocket clients, and a
 * clean-up that kills the private tmux server a test started.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import WebSocket from 'ws';
import type { Config } from '../../src/config';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const FIXTURE_LABS = path.join(REPO, 'test', 'fixtures', 'labs');

export function tempData(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tl-portal-'));
}

export function testConfig(dataDir: string, over: Partial<Config> = {}): Config {
  return { port: 0, host: '127.0.0.1', dataDir, labsDir: FIXTURE_LABS, hostBackend: 'local', ...over };
}

/** Kill the data dir's tmux server (the student's shells) and remove the dir. */
export function cleanupData(dataDir: string): void {
  const sock = path.join(dataDir, 'tmux.sock');
  if (fs.existsSync(sock)) spawnSync('tmux', ['-S', sock, 'kill-server'], { stdio: 'ignore' });
  // tmux 3.3a can wedge on kill-server when a control-mode client's portal was killed
  // (-9): the server stops accepting and waits forever for that client, which waits for
  // the server. Kill whatever still names this socket, so no test leaves them behind.
  spawnSync('pkill', ['-KILL', '-f', `^tmux -S ${sock} `], { stdio: 'ignore' });
  // The shells die of SIGHUP just after kill-server returns, and bash writes its history
  // into the workspace on the way out: a one-shot recursive rm then fails ENOTEMPTY.
  fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
}

/** Pids whose parent is `pid` (from /proc), to prove a request spawned nothing. */
export function childPids(pid = process.pid): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

/** Log in with a token URL; returns the Cookie header value. */
export async function login(base: string, token: string): Promise<string> {
  const res = await fetch(`${base}?token=${encodeURIComponent(token)}`, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`login: expected 302, got ${res.status}`);
  const set = res.headers.get('set-cookie') || '';
  return set.split(';')[0];
}

/** A terminal client speaking the protocol: collects screen bytes and control messages. */
export class TermClient {
  readonly ws: WebSocket;
  text = '';
  controls: any[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];

  constructor(url: string, headers: Record<string, string>) {
    this.ws = new WebSocket(url, { headers });
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) this.text += data.toString();
      else this.controls.push(JSON.parse(data.toString()));
      this.waiters.forEach((w) => w());
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.waiters.forEach((w) => w());
    });
    this.ws.on('error', () => undefined);
  }

  /** Resolve when pred() holds (checked on every message); reject after ms with what was seen. */
  until(pred: () => boolean, what: string, ms = 15000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (pred()) {
          clearTimeout(t);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out waiting for ${what}; saw text ${JSON.stringify(this.text.slice(-400))} controls ${JSON.stringify(this.controls)}`));
      }, ms);
      this.waiters.push(check);
      check();
    });
  }

  type(s: string): void {
    this.ws.send(Buffer.from(s, 'utf8'), { binary: true });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** Try a WebSocket upgrade; resolve the HTTP status it was refused with, or 101. */
export function upgradeStatus(url: string, headers: Record<string, string>): Promise<{ status: number; refused: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode || 0, refused: String(res.headers['x-tracelab-refused'] || '') });
      ws.terminate();
    });
    ws.on('open', () => {
      resolve({ status: 101, refused: '' });
      ws.close();
    });
    ws.on('error', () => undefined);
  });
}
