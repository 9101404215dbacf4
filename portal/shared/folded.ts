/**
 * Folded stacks ("root;caller;leaf count" per line, as labs/03's stackfold.js, perf
 * and flamegraph.pl write them) → the flame graph tree portal/client/viz draws.
 * Runs in the browser on a file the student's tools made, so it is bounded: it reads
 * at most `maxBytes` and `maxLines`, and at most `maxDepth` frames of a stack, and
 * says what it left out (the panel shows that) rather than freezing the tab.
 * Shared with the unit tests (tsc compiles portal/shared; esbuild bundles it).
 */

export interface FoldedNode {
  n: string;
  v: number;
  c?: FoldedNode[];
}

export interface FoldedLimits {
  maxBytes: number;
  maxLines: number;
  maxDepth: number;
  /**
   * Frames with fewer samples than this share of all are dropped from the tree (their
   * samples stay in their parent's width): even zoomed in they would be a pixel, and a
   * file of many unique stacks would otherwise become millions of boxes to walk.
   */
  minShare: number;
}

export const FOLDED_LIMITS: FoldedLimits = { maxBytes: 8 * 1024 * 1024, maxLines: 100_000, maxDepth: 512, minShare: 0.0001 };

export interface FoldedParse {
  root: FoldedNode;
  /** Stack lines read (with a count). */
  stacks: number;
  /** Non-empty lines that were not "frames count" (ignored). */
  skipped: number;
  /** Stacks cut to maxDepth frames. */
  deep: number;
  maxDepth: number;
  /** Why the input was not read to the end, or null when it was. */
  truncated: string | null;
  /** The tool whose raw (unfolded) output this is, when it is that: nothing is parsed then. */
  raw: 'bpftrace' | 'perf script' | null;
}

interface Building {
  n: string;
  v: number;
  kids: Map<string, Building> | null;
}

const LINE_RE = /^(.*\S)\s+(\d+)$/;

export function parseFoldedStacks(text: string, limits: Partial<FoldedLimits> = {}): FoldedParse {
  const lim = { ...FOLDED_LIMITS, ...limits };
  let truncated: string | null = null;
  if (text.length > lim.maxBytes) {
    // Cut at the last whole line inside the budget (a half line would be a wrong stack).
    const cut = text.lastIndexOf('\n', lim.maxBytes);
    text = text.slice(0, cut > 0 ? cut : lim.maxBytes);
    truncated = `read the first ${fmtBytes(lim.maxBytes)} only`;
  }
  // Raw profiler output is the usual mistake (the wrong file, or stackfold.js not run
  // yet); its "]: 3" lines would otherwise parse as a frame named "]:".
  const raw = /^@\w*\[\s*$/m.test(text) ? 'bpftrace' : /^\S.*\s\d+(\/\d+)?\s+\d+\.\d+:\s/m.test(text) ? 'perf script' : null;
  if (raw) return { root: { n: 'all', v: 0 }, stacks: 0, skipped: 0, deep: 0, maxDepth: lim.maxDepth, truncated, raw };
  const root: Building = { n: 'all', v: 0, kids: null };
  let stacks = 0;
  let skipped = 0;
  let deep = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (!line) continue;
    if (stacks >= lim.maxLines) {
      truncated = `read the first ${lim.maxLines} stacks only`;
      break;
    }
    const m = LINE_RE.exec(line);
    const count = m ? Number(m[2]) : 0;
    if (!m || !(count > 0) || !Number.isSafeInteger(count)) {
      skipped++;
      continue;
    }
    stacks++;
    let frames = m[1].split(';');
    if (frames.length > lim.maxDepth) {
      frames = frames.slice(0, lim.maxDepth);
      deep++;
    }
    root.v += count;
    let node = root;
    for (const f of frames) {
      const name = f || '[empty]';
      if (!node.kids) node.kids = new Map();
      let kid = node.kids.get(name);
      if (!kid) node.kids.set(name, (kid = { n: name, v: 0, kids: null }));
      kid.v += count;
      node = kid;
    }
  }
  return { root: freeze(root, root.v * lim.minShare), stacks, skipped, deep, maxDepth: lim.maxDepth, truncated, raw: null };
}

/** Children sorted by name, as flame graphs draw them (so towers of one caller stay together). */
function freeze(b: Building, min: number): FoldedNode {
  const out: FoldedNode = { n: b.n, v: b.v };
  if (!b.kids) return out;
  const kids = [...b.kids.values()].filter((k) => k.v >= min);
  if (kids.length) out.c = kids.sort((x, y) => (x.n < y.n ? -1 : x.n > y.n ? 1 : 0)).map((k) => freeze(k, min));
  return out;
}

function fmtBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / (1024 * 1024))} MB` : `${Math.round(n / 1024)} KB`;
}

/** One line for the panel: how much was drawn, and what was left out. */
export function describeParse(p: FoldedParse): string {
  const parts = [`${p.root.v} samples in ${p.stacks} stacks`];
  if (p.skipped) parts.push(`${p.skipped} lines were not "frame;frame;... count" and were ignored`);
  if (p.deep) parts.push(`${p.deep} stacks cut to their first ${p.maxDepth} frames`);
  if (p.truncated) parts.push(`file too large: ${p.truncated}`);
  return parts.join(' · ');
}
