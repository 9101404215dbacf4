/**
 * `tracelab serve` as a real child process, the way a user starts it: the tests that
 * meet the portal as users do start it with this, and stop it with stopServe.
 */
import { spawn, ChildProcess } from 'child_process';
import * as path from 'path';
import { REPO } from '../server/harness';

export interface Serve {
  child: ChildProcess;
  /** The local login URL serve printed (empty in class mode, which prints none). */
  url: string;
  /** Everything serve printed so far, on stdout and stderr. */
  out(): string;
  err(): string;
}

const LOGIN_URL = /(http:\/\/127\.0\.0\.1:[0-9]+\/\?token=[A-Za-z0-9_-]+)/;

/**
 * Start `tracelab serve --port --data [--labs] [args]` and resolve once it printed `ready`
 * (by default its login URL: it is listening then). Rejects with what it printed
 * if it exits first or prints nothing matching in 20 s.
 */
export function startServe(o: { port: number; data: string; labs?: string; args?: string[]; ready?: RegExp }): Promise<Serve> {
  const ready = o.ready || LOGIN_URL;
  return new Promise((resolve, reject) => {
    const labs = o.labs ? ['--labs', o.labs] : [];
    const child = spawn(process.execPath, [path.join(REPO, 'bin', 'tracelab'), 'serve', '--port', String(o.port), '--data', o.data, ...labs, ...(o.args ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_TEST_CONTEXT: '' },
    });
    let out = '';
    let err = '';
    let done = false;
    const t = setTimeout(() => {
      done = true;
      child.kill('SIGKILL');
      reject(new Error(`tracelab serve printed no ${ready} in 20 s:\n${out}\n${err}`));
    }, 20000);
    child.stdout!.on('data', (b) => {
      out += b;
      if (!done && ready.test(out)) {
        done = true;
        clearTimeout(t);
        const m = LOGIN_URL.exec(out);
        resolve({ child, url: m ? m[1] : '', out: () => out, err: () => err });
      }
    });
    child.stderr!.on('data', (b) => (err += b));
    child.on('exit', (code) => {
      clearTimeout(t);
      if (!done) {
        done = true;
        reject(new Error(`tracelab serve exited ${code}:\n${out}\n${err}`));
      }
    });
  });
}

/** Stop serve with `signal` and resolve once it has exited (at once if it already has). */
export function stopServe(s: Serve | null, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const child = s && s.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
