/**
 * Running a lab's bpftrace script for a checker, and reading what it printed.
 *
 * Every lab script prints "Tracing... Hit Ctrl-C to end." once its probes are
 * attached (STYLE.md), so that line is the "ready" signal: an app started after
 * it is traced from its first event. Scripts are stopped with SIGINT, like a
 * student's Ctrl-C, so END blocks and maps are printed.
 */
import * as fs from 'fs';
import { spawnGroup, waitForOutput, cleanBpftraceStderr, tail, type Spawned } from './proc';
import { exitedWithin } from './labenv';

export const READY_LINE = 'Tracing... Hit Ctrl-C to end.';

export interface Tracer {
  proc: Spawned;
  script: string;
  /** Everything printed so far (RLIMIT_MEMLOCK noise removed). */
  output(): string;
  /** Ctrl-C, wait for the END output (bounded), then make sure it is gone. Returns the final output. */
  stop(graceMs?: number): Promise<string>;
}

/** Start `bpftrace script ...args` and resolve once its probes are attached. */
export async function startBpftrace(
  script: string,
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; maxOutputBytes?: number; /** bpftrace options before the script, e.g. ['-p', PID] */ flags?: string[] } = {},
): Promise<Tracer> {
  if (!fs.existsSync(script)) throw new Error(`tracing script ${script} is missing`);
  const proc = spawnGroup('bpftrace', [...(opts.flags ?? []), script, ...args], {
    // The default str() size (64 bytes), as a student runs it: larger sizes
    // overflow the 512-byte BPF stack in scripts with several str() calls.
    env: { ...process.env, ...opts.env },
    maxOutputBytes: opts.maxOutputBytes ?? 4 * 1024 * 1024,
  });
  const tracer: Tracer = {
    proc,
    script,
    output: () => cleanBpftraceStderr(proc.output()),
    stop: async (graceMs = 3000) => {
      try {
        process.kill(proc.pid, 'SIGINT');
      } catch {
        /* already gone */
      }
      await exitedWithin(proc, graceMs);
      await proc.stop();
      return tracer.output();
    },
  };
  try {
    await waitForOutput(proc, (out) => out.includes(READY_LINE), opts.timeoutMs ?? 15000, `${script} to attach its probes`);
  } catch (e) {
    await proc.stop();
    throw new Error(`bpftrace could not start ${script}: ${tail(cleanBpftraceStderr(proc.output()), 8) || (e as Error).message}`);
  }
  return tracer;
}

/** One bpftrace `hist()` / `lhist()` map entry. */
export interface Histogram {
  kind: 'histogram';
  title: string;
  unit: string;
  buckets: { low: number; high: number; count: number }[];
}

const SUFFIX: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

function bucketValue(s: string): number {
  const m = /^(-?\d+)([KMGT]?)$/.exec(s.trim());
  if (!m) return NaN;
  return Number(m[1]) * SUFFIX[m[2]];
}

/**
 * Parse every histogram in bpftrace output:
 *   @us[read]:
 *   [1K, 2K)     3 |@@@@@@                                   |
 *   [0]          1 |@@                                       |
 * `unit` names what the buckets count (the caller knows: "us", "ns").
 */
export function parseHistograms(out: string, unit = ''): Histogram[] {
  const hists: Histogram[] = [];
  let cur: Histogram | null = null;
  for (const line of out.split('\n')) {
    const head = /^(@[A-Za-z0-9_]*(?:\[.*\])?):\s*$/.exec(line);
    if (head) {
      cur = { kind: 'histogram', title: head[1], unit, buckets: [] };
      hists.push(cur);
      continue;
    }
    const b = /^\[([^,\]]+)(?:,\s*([^)\]]+))?[)\]]\s+(\d+)\s+\|/.exec(line);
    if (b && cur) {
      const low = bucketValue(b[1]);
      const high = b[2] === undefined ? low + 1 : b[2] === '...' ? Infinity : bucketValue(b[2]);
      cur.buckets.push({ low, high, count: Number(b[3]) });
      continue;
    }
    if (line.trim() === '') cur = null;
  }
  return hists.filter((h) => h.buckets.length > 0);
}

/** The key inside `@name[key]`, e.g. "read" from "@us[read]". */
export function histKey(title: string): string {
  const m = /\[(.*)\]$/.exec(title);
  return m ? m[1] : title;
}

/** Sum of counts and an estimate of the mean (bucket midpoints). */
export function histStats(h: Histogram): { count: number; mean: number; max: number } {
  let count = 0;
  let sum = 0;
  let max = 0;
  for (const b of h.buckets) {
    count += b.count;
    const hi = Number.isFinite(b.high) ? b.high : b.low * 2;
    sum += b.count * ((b.low + hi) / 2);
    if (b.count > 0) max = Math.max(max, hi);
  }
  return { count, mean: count ? sum / count : 0, max };
}

/** A short excerpt for evidence: the head and tail of long output. */
export function excerpt(s: string, maxLines = 30): string {
  const lines = s.trimEnd().split('\n');
  if (lines.length <= maxLines) return lines.join('\n');
  const h = Math.ceil(maxLines / 2);
  return [...lines.slice(0, h), `... (${lines.length - maxLines} lines omitted)`, ...lines.slice(-(maxLines - h))].join('\n');
}
