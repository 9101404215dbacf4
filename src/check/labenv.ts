/**
 * What a checker needs to run a lab app the way a student does: the lab's npm
 * dependencies (installed once in <tracelab>/labs/node_modules, found through
 * NODE_PATH so a workspace copy needs no node_modules of its own) and the path of
 * the USDT addon that carries every app probe on Linux (bpftrace attaches to it).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { INSTALL_ROOT } from '../labs';
import { CheckEnvironmentError } from './types';
import { runBounded, spawnGroup, freePort, waitForPort, tail, type Spawned } from './proc';

export const LABS_NODE_MODULES = path.join(INSTALL_ROOT, 'labs', 'node_modules');

/** The environment a lab app runs in: NODE_PATH points at the labs' dependencies. */
export function appEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const np = [LABS_NODE_MODULES, process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
  return { ...process.env, NODE_PATH: np, ...extra };
}

/** The dtrace-provider addon (tracelab_usdt.node) lab apps load; bpftrace scripts take it as $1. */
export function usdtAddon(): string {
  const candidates = [
    path.join(LABS_NODE_MODULES, 'dtrace-provider', 'build', 'Release', 'tracelab_usdt.node'),
    path.join(INSTALL_ROOT, 'packages', 'usdt-provider', 'build', 'Release', 'tracelab_usdt.node'),
  ];
  for (const c of candidates) if (fs.existsSync(c)) return fs.realpathSync(c);
  throw new CheckEnvironmentError(
    'the USDT addon (dtrace-provider) is not built, so app probes cannot fire',
    'run ./setup.sh deps in the tracelab directory (it builds packages/usdt-provider and installs labs/node_modules)',
  );
}

/** Make sure the lab's npm dependencies are installed. */
export function requireLabModules(names: string[]): void {
  const missing = names.filter((n) => !fs.existsSync(path.join(LABS_NODE_MODULES, n, 'package.json')));
  if (missing.length) {
    throw new CheckEnvironmentError(
      `the lab's npm packages are not installed: ${missing.join(', ')}`,
      'run ./setup.sh deps in the tracelab directory (npm install in labs/)',
    );
  }
}

/**
 * Does this JS file parse? Returns null when it does, else the first lines of
 * node's syntax error (what a student needs to see).
 */
export async function syntaxError(file: string): Promise<string | null> {
  if (!fs.existsSync(file)) return `${path.basename(file)} is missing`;
  const r = await runBounded(process.execPath, ['--check', file], { timeoutMs: 10000, maxOutputBytes: 16 * 1024 });
  if (r.code === 0) return null;
  const lines = r.stderr.trim().split('\n').filter((l) => l.trim() && !/^\s+at |^Node\.js v/.test(l));
  // node prints "FILE:LINE", the source line, a caret, then "SyntaxError: ...":
  // lead with the error and where it is, then the context.
  const err = lines.find((l) => /^\w*Error\b/.test(l));
  const where = lines.find((l) => /:\d+$/.test(l));
  const head = err ? `${err}${where ? ` (${path.basename(where)})` : ''}` : '';
  return [head, ...lines].filter(Boolean).slice(0, 6).join('\n') || `node --check exited with ${r.code ?? r.signal}`;
}

/** Milliseconds left before the check's deadline, minus a margin for clean-up. */
export function remaining(deadline: number, marginMs = 3000): number {
  return Math.max(1000, deadline - Date.now() - marginMs);
}

/**
 * These checkers trace with bpftrace on Linux. The illumos track's checks would run
 * the lab's illumos/*.d scripts with dtrace inside the illumos box; until a lab has
 * that branch, say so (exit 3) instead of pretending.
 */
export function requireLinuxTrack(track: string): void {
  if (track === 'linux' && process.platform === 'linux') return;
  if (track === 'illumos' && process.platform === 'linux') {
    throw new CheckEnvironmentError(
      "the illumos track's checks run dtrace inside the illumos lab box, not on this Linux host",
      'use --track linux here, or run the illumos/*.d scripts in the illumos box as the steps show',
    );
  }
  if (track === 'illumos') {
    throw new CheckEnvironmentError(
      'this lab has no dtrace checker yet: its checks run bpftrace on a Linux host',
      "run the lab's illumos/*.d scripts as the steps show, or check on a Linux host with --track linux",
    );
  }
  throw new CheckEnvironmentError(`the linux track needs a Linux host with bpftrace (this is ${process.platform})`, 'run the check on a Linux lab host');
}

/** size and md5 of a file, or null when it does not exist. */
export function fileDigest(file: string): { size: number; md5: string } | null {
  try {
    const data = fs.readFileSync(file);
    return { size: data.length, md5: crypto.createHash('md5').update(data).digest('hex') };
  } catch {
    return null;
  }
}

/** The exit of a spawned process, or null if it is still running after `ms` (the timer never outlives the wait). */
export function exitedWithin(
  p: { exited: Promise<{ code: number | null; signal: string | null }> },
  ms: number,
): Promise<{ code: number | null; signal: string | null } | null> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), ms);
    p.exited.then((r) => {
      clearTimeout(t);
      resolve(r);
    });
  });
}

/** What a server app may print while a check runs; past it the output is cut and the check fails. */
export const SERVER_OUTPUT_CAP = 64 * 1024;

/**
 * A lab's server app, started and listening; or why it would not (the student's fault).
 * `flooded()`, asked once the app has been stopped, is the failure message when it
 * printed SERVER_OUTPUT_CAP or more (a log line per chunk, a debug loop), else null.
 */
export type ServerApp = { app: Spawned; port: number; flooded(): string | null } | { error: string; evidence: string };

/**
 * Start a lab's server app the way its steps do (in app/, PORT set, the lab's
 * dependencies on NODE_PATH) and wait until it listens. A script that does not parse,
 * exits early or never listens is reported as `{error, evidence}` for the caller to turn
 * into failed steps; a running app is the caller's to stop.
 */
export async function startServerApp(
  node: string,
  script: string,
  opts: { dir: string; deadline: number; log: (m: string) => void; preload?: string[]; note?: string },
): Promise<ServerApp> {
  const appDir = path.join(opts.dir, 'app');
  const bad = await syntaxError(path.join(appDir, script));
  if (bad) return { error: `app/${script} does not run: ${bad.split('\n')[0]}`, evidence: bad };
  const port = await freePort();
  opts.log(`starting ${script} on port ${port}${opts.note ? ` (${opts.note})` : ''}`);
  const args = [...(opts.preload ?? []).flatMap((m) => ['-r', m]), script];
  const app = spawnGroup(node, args, { cwd: appDir, env: appEnv({ PORT: String(port) }), maxOutputBytes: SERVER_OUTPUT_CAP });
  try {
    await Promise.race([
      waitForPort(port, Math.min(15000, remaining(opts.deadline))),
      app.exited.then((e) => {
        throw new Error(`${script} exited (${e.signal ?? 'code ' + e.code}) before it listened on port ${port} (it must use process.env.PORT)`);
      }),
    ]);
  } catch (e) {
    await app.stop();
    return { error: (e as Error).message, evidence: tail(app.output(), 15) };
  }
  // The capture keeps the head and drops the rest, so a full capture means the app
  // printed at least that much (a cut multi-byte character still counts as full).
  const flooded = () =>
    Buffer.byteLength(app.output()) >= SERVER_OUTPUT_CAP
      ? `app/${script} printed more than ${SERVER_OUTPUT_CAP / 1024} KB while it served the check's requests; a server should print a line or two, not one per request or chunk`
      : null;
  return { app, port, flooded };
}
