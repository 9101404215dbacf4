/**
 * Real processes for the USDT tests: node apps that fire probes and bpftrace
 * attached to them. Every process started here is killed by `cleanup()`; waits are
 * bounded so a broken probe fails a test instead of hanging it.
 */
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const PKG_DIR = path.join(ROOT, 'packages', 'usdt-provider');
export const ADDON = path.join(PKG_DIR, 'build', 'Release', 'tracelab_usdt.node');
export const LABS_DIR = path.join(ROOT, 'labs');

/** Why tracing tests cannot run here, or null. Tests skip with this reason. */
export function cannotTrace(): string | null {
  if (process.platform !== 'linux') return 'USDT tests need Linux';
  if (process.getuid && process.getuid() !== 0) return 'USDT tests need root (bpftrace)';
  if (spawnSync('bpftrace', ['--version']).status !== 0) return 'bpftrace is not installed (apt-get install bpftrace)';
  if (!fs.existsSync('/sys/kernel/tracing/events')) return 'tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)';
  if (!fs.existsSync(ADDON)) return `USDT addon not built (${ADDON}); run scripts/setup.d/20-usdt.sh`;
  return null;
}

export class Proc {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  private waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  private exited: Promise<number | null>;

  constructor(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    readline.createInterface({ input: this.child.stdout! }).on('line', (l) => {
      this.lines.push(l);
      this.waiters = this.waiters.filter((w) => (w.re.test(l) ? (w.resolve(l), false) : true));
    });
    readline.createInterface({ input: this.child.stderr! }).on('line', (l) => this.stderr.push(l));
    live.add(this);
  }

  /** The first stdout line (already seen or to come) matching re. */
  waitFor(re: RegExp, ms = 20000, from = 0): Promise<string> {
    const seen = this.lines.slice(from).find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { re, resolve: (l: string) => { clearTimeout(t); resolve(l); } };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no line matching ${re} within ${ms} ms from ${this.child.spawnfile}; ` +
          `stdout: ${JSON.stringify(this.lines.slice(-10))} stderr: ${JSON.stringify(this.stderr.slice(-10))}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  /** Sends one command line to a fixture app and returns its JSON reply. */
  async ask(cmd: string): Promise<any> {
    const from = this.lines.length;
    this.child.stdin!.write(cmd + '\n');
    const line = await this.waitFor(new RegExp(`^\\{"reply":"${cmd}"`), 20000, from);
    return JSON.parse(line);
  }

  /** SIGINT (bpftrace prints its maps and exits), SIGKILL if that does not end it. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(signal);
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(t);
    }
    live.delete(this);
    return this.child.exitCode;
  }
}

const live = new Set<Proc>();

/** bpftrace with a BEGIN marker: resolves once every probe is attached. */
export async function bpftrace(program: string, args: string[] = []): Promise<Proc> {
  const p = new Proc('bpftrace', [...args, '-e', `BEGIN { printf("READY\\n"); } ${program}`]);
  await p.waitFor(/^READY$/);
  return p;
}

export async function cleanup(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop('SIGKILL')));
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

const tmpDirs: string[] = [];
export function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelab-usdt-'));
  tmpDirs.push(d);
  return d;
}

/** Writes a fixture script into a temp dir and returns its path. */
export function fixture(name: string, source: string, dir = tmpDir()): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, source);
  return f;
}
