/**
 * What every lab's illumos branch (labs/<id>/check/illumos.ts) shares: the
 * students' Node 6 to start the app with (tracelab itself runs on a modern node
 * beside it in the lab box, vm/scripts/50-tracelab.sh), and a D script attached
 * to a running app that prints its aggregations when stopped, as Ctrl-C does.
 */
import * as fs from 'fs';
import { CheckEnvironmentError } from '../types';
import { spawnGroup, delay } from '../proc';
import { requireIllumos, dtraceArgs, type DScriptRun } from './run';

/** Where vm/scripts/20-node6.sh installs Node 6.17.1 (it also links it as /usr/bin/node). */
export const NODE6_DEFAULT = '/opt/node-v6.17.1/bin/node';

/** The node lab apps run on: $TRACELAB_NODE6, else the lab box's Node 6.17.1. */
export function node6(): string {
  const p = process.env.TRACELAB_NODE6 || NODE6_DEFAULT;
  if (!fs.existsSync(p)) {
    throw new CheckEnvironmentError(
      `the students' Node 6 is not at ${p}: jstack() and mdb_v8 need Node 6.17.1`,
      'use the lab box built from vm/ (vm/scripts/20-node6.sh), or set TRACELAB_NODE6 to a Node 6 binary',
    );
  }
  return p;
}

export interface DTraceSession {
  pid: number;
  output(): string;
  /** SIGINT dtrace (it runs END and prints its aggregations), wait for it; the whole output. */
  stop(): Promise<string>;
}

/**
 * Start `dtrace -q -s SCRIPT ...` and resolve once it is tracing: after the
 * script's "Tracing..." line if it prints one, else after a short settle. A
 * dtrace that exits at once (does not compile, no privilege) rejects with its
 * message.
 */
export async function startDTrace(r: DScriptRun, opts: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<DTraceSession> {
  requireIllumos(['dtrace']);
  const announces = /Tracing\.\.\./.test(fs.readFileSync(r.script, 'utf8'));
  const p = spawnGroup('dtrace', dtraceArgs(r), { cwd: opts.cwd, env: opts.env, maxOutputBytes: 2 * 1024 * 1024, untrusted: false });
  let gone = false;
  p.exited.then(() => (gone = true));
  // Without a "Tracing..." line, 1.5 s is ample for dtrace to compile and enable.
  const until = Date.now() + (announces ? Math.min(opts.timeoutMs, 15000) : 1500);
  while (!gone && Date.now() < until && !(announces && /Tracing\.\.\./.test(p.output()))) {
    await delay(50);
  }
  if (gone) {
    throw new Error(`dtrace -s ${r.script} exited before tracing: ${p.output().trim().split('\n').slice(0, 4).join(' | ')}`);
  }
  const hardStop = setTimeout(() => void p.stop(), opts.timeoutMs);
  hardStop.unref();
  return {
    pid: p.pid,
    output: () => p.output(),
    stop: async () => {
      clearTimeout(hardStop);
      if (!gone) {
        try {
          process.kill(p.pid, 'SIGINT');
        } catch {
          /* already gone */
        }
        await Promise.race([p.exited, delay(10000)]);
      }
      await p.stop();
      return p.output();
    },
  };
}

/** At most `lines` lines of text, saying how many were left out. */
export function firstLines(text: string, lines: number): string {
  const all = text.replace(/\s+$/, '').split('\n');
  return all.length <= lines ? all.join('\n') : `${all.slice(0, lines).join('\n')}\n... ${all.length - lines} more lines`;
}
