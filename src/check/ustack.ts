/**
 * bpftrace maps keyed by a user stack (`@x[ustack] = count()/sum()`) parsed into
 * frames and values, for checkers that judge where in the JS code something happened.
 */

export interface StackEntry {
  /** Leaf first, as bpftrace prints them, cleaned of addresses, offsets and V8 tier marks. */
  frames: string[];
  value: number;
}

export function cleanFrame(raw: string): string {
  let f = raw.trim();
  const perf = /^[0-9a-f]+\s+(.*?)(?:\s+\(([^()]*)\))?$/.exec(f);
  if (perf && /^[0-9a-f]+\s/.test(f)) f = perf[1];
  f = f.replace(/\+0x[0-9a-f]+$/i, '').replace(/\+\d+$/, '');
  if (/^(0x)?[0-9a-f]+$/i.test(f)) return '[unknown]';
  return f.replace(/^JS:[~^+*]?/, '');
}

export function parseStackMap(text: string): StackEntry[] {
  const out: StackEntry[] = [];
  let frames: string[] | null = null;
  for (const line of text.split('\n')) {
    if (/^@\w*\[\s*$/.test(line)) frames = [];
    else if (frames && /^\]:\s*\d+/.test(line)) {
      out.push({ frames: frames.map(cleanFrame), value: Number(/\d+/.exec(line)![0]) });
      frames = null;
    } else if (frames && line.trim()) frames.push(line);
  }
  return out;
}

/**
 * Sum values by the deepest frame that matches `isApp` (e.g. a frame in the lab's app
 * file), with its caller chain inside the app: "renderPage <- servePage <- tick".
 */
export function byAppFrame(entries: StackEntry[], isApp: (frame: string) => boolean): { chain: string; fn: string; value: number }[] {
  const sums = new Map<string, { fn: string; value: number }>();
  for (const e of entries) {
    const app = e.frames.filter(isApp);
    if (!app.length) continue;
    const names = app.map((f) => f.replace(/ \S+$/, ''));
    const chain = names.slice(0, 3).join(' <- ');
    const cur = sums.get(chain) ?? { fn: names[0], value: 0 };
    cur.value += e.value;
    sums.set(chain, cur);
  }
  return [...sums].map(([chain, v]) => ({ chain, fn: v.fn, value: v.value })).sort((a, b) => b.value - a.value);
}
