/**
 * Memory of a running process seen from outside: VmRSS sampled from /proc/PID/status
 * (what `grep VmRSS` and `pmap -x` show a student), and a series for the page's plot.
 */
import * as fs from 'fs';

/** [seconds since start, MB] */
export type Point = [number, number];

export function readRssKb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Sample VmRSS every `everyMs` for `forMs` (or until the process is gone). */
export async function sampleRss(pid: number, everyMs: number, forMs: number): Promise<Point[]> {
  const out: Point[] = [];
  const t0 = Date.now();
  while (Date.now() - t0 <= forMs) {
    const kb = readRssKb(pid);
    if (kb === null) break;
    out.push([round((Date.now() - t0) / 1000, 2), round(kb / 1024, 1)]);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return out;
}

/** The heap log written by heap-preload: "ms bytes" lines -> [s, MB]. */
export function readHeapLog(file: string): Point[] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((l) => /^(\d+) (\d+)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => [round(Number(m[1]) / 1000, 2), round(Number(m[2]) / 1048576, 1)] as Point);
}

/**
 * Growth after warm-up: the largest value in the last `tailS` seconds minus the largest
 * in the window [fromS, fromS + tailS). Maxima, not single samples, so one garbage
 * collection landing on a sample does not decide the verdict.
 */
export function growth(points: Point[], fromS: number, tailS: number): number | null {
  if (!points.length) return null;
  const end = points[points.length - 1][0];
  const early = points.filter(([t]) => t >= fromS && t < fromS + tailS).map(([, v]) => v);
  const late = points.filter(([t]) => t > end - tailS).map(([, v]) => v);
  if (!early.length || !late.length || end - tailS < fromS + tailS) return null;
  return round(Math.max(...late) - Math.max(...early), 1);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
