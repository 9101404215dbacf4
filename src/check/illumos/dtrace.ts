/**
 * Parsers for what dtrace(1M) prints for aggregations, used by the illumos-track
 * checkers (`tracelab check --track illumos`) to judge a trace instead of grepping it.
 *
 * Shapes handled (all as dtrace prints them by default or through printa):
 *  - quantize()/lquantize()/llquantize() histograms: optional key lines, then a
 *    "value  ---- Distribution ---- count" header, then one row per bucket
 *    ("   2048 |@@@@   3", lquantize's "< 0" and ">= 100" rows).
 *  - count()/sum()/min()/max()/avg() aggregations: one line per key tuple, the value last.
 *  - stack aggregations (@[jstack()] = count(), @[ustack()] = count()): indented
 *    frame lines, then the count on a line of its own.
 *
 * The parsers are tolerant of what copying through a terminal or a slide does
 * to dtrace's columns (tabs for spaces, a lost "|"), because the talk's own
 * printed outputs look like that and students paste such text too.
 */

export interface Bucket {
  /** Lower bound of the bucket; -Infinity for lquantize's "< N" row. */
  value: number;
  count: number;
  /** The row as printed for "< N" / ">= N" rows; absent for plain rows. */
  label?: string;
}

export interface Histogram {
  /** Key lines printed above the histogram (one per printa line or key tuple); may be empty. */
  keys: string[];
  buckets: Bucket[];
}

const HIST_HEADER = /^\s*value\s+-+\s*Distribution\s*-+\s+count\s*$/;
// "  2048 |@@@@   3", "  2048\t@@@@ 3", "   < 0 |   0", "  >= 100 |@@ 5"
const HIST_ROW = /^\s*(<|>=)?\s*(-?\d+)(?:\s*\|\s*|\s+)(@*)\s*(-?\d+)\s*$/;

/** Every histogram in `text`, in order, each with the non-empty lines printed since the previous one as keys. */
export function parseHistograms(text: string): Histogram[] {
  const lines = text.split(/\r?\n/);
  const out: Histogram[] = [];
  let pendingKeys: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!HIST_HEADER.test(line)) {
      const t = line.trim();
      if (t && !isNoise(t)) pendingKeys.push(t);
      i++;
      continue;
    }
    const buckets: Bucket[] = [];
    i++;
    for (; i < lines.length; i++) {
      const m = HIST_ROW.exec(lines[i]);
      if (!m) break;
      const bound = Number(m[2]);
      const b: Bucket = { value: m[1] === '<' ? -Infinity : bound, count: Number(m[4]) };
      if (m[1]) b.label = `${m[1]} ${m[2]}`;
      buckets.push(b);
    }
    out.push({ keys: pendingKeys, buckets });
    pendingKeys = [];
  }
  return out;
}

/** Lines dtrace itself prints around results; never part of a key. */
function isNoise(t: string): boolean {
  // "# dtrace ..." / "$ dtrace ..." are the command line a capture starts with
  return /^dtrace: /.test(t) || /^[#$] /.test(t) || /^\(?\^C\)?$/.test(t) || t === '#' || t === '...' || /^Tracing\.\.\./.test(t);
}

/** Total count in a histogram. */
export function histogramTotal(h: Histogram): number {
  return h.buckets.reduce((s, b) => s + b.count, 0);
}

/**
 * The bucket holding the `p`-th fraction (0..1) of the samples: e.g. 0.5 gives the
 * lower bound of the median's bucket. Returns NaN for an empty histogram.
 */
export function histogramPercentile(h: Histogram, p: number): number {
  const total = histogramTotal(h);
  if (!total) return NaN;
  let seen = 0;
  for (const b of h.buckets) {
    seen += b.count;
    if (seen >= p * total) return b.value;
  }
  return h.buckets[h.buckets.length - 1].value;
}

/** The bucket with the most samples (the histogram's mode); undefined when empty. */
export function histogramMode(h: Histogram): Bucket | undefined {
  let best: Bucket | undefined;
  for (const b of h.buckets) if (b.count > 0 && (!best || b.count > best.count)) best = b;
  return best;
}

export interface CountRow {
  /** The key as printed (columns joined by single spaces). */
  key: string;
  /** The key's columns, split on runs of 2+ spaces or tabs (dtrace pads tuple members). */
  fields: string[];
  value: number;
}

/**
 * Rows of a scalar aggregation (count/sum/min/max/avg) as dtrace prints it by default:
 * "  read          1234". Lines that are not "key ... integer" (dtrace's own messages,
 * blank lines, histograms) are skipped; an unkeyed aggregation gives key "".
 */
export function parseCounts(text: string): CountRow[] {
  const rows: CountRow[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (HIST_HEADER.test(line)) {
      // skip a whole histogram: its rows look like "key value" too
      while (i + 1 < lines.length && HIST_ROW.test(lines[i + 1])) i++;
      continue;
    }
    const t = line.trim();
    if (!t || isNoise(t)) continue;
    // a key line of a histogram ("  100" above "value --- Distribution"), not a count
    if (i + 1 < lines.length && HIST_HEADER.test(lines[i + 1])) continue;
    const m = /^(.*?)\s*(-?\d+)$/.exec(t);
    if (!m) continue;
    const key = m[1].trim();
    rows.push({ key: key.replace(/\s+/g, ' '), fields: key ? key.split(/\s{2,}|\t+/) : [], value: Number(m[2]) });
  }
  return rows;
}

/** parseCounts as a map from key to value (later rows win, as dtrace never repeats a key). */
export function countsByKey(text: string): Map<string, number> {
  return new Map(parseCounts(text).map((r) => [r.key, r.value]));
}

export interface StackSample {
  /** Frames, innermost first, trimmed. */
  frames: string[];
  count: number;
}

/**
 * Stack aggregations (@[jstack()] = count(), @[ustack()] = count()): each entry is
 * a block of indented frame lines followed by the count alone on a line.
 * jstack() frames look like "node`_ZN2v8...+0x2a" for native code and
 * "run at /home/student/leak2.js line 15" for JavaScript.
 */
export function parseStacks(text: string): StackSample[] {
  const out: StackSample[] = [];
  let frames: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t) continue;
    if (/^\d+$/.test(t)) {
      if (frames.length) out.push({ frames, count: Number(t) });
      frames = [];
      continue;
    }
    if (isNoise(t) || t.startsWith('dtrace:')) continue;
    frames.push(t);
  }
  return out;
}

/** A JavaScript frame of jstack() output: "<function> at <file> line <n>" (names may be "(anon) as (anon)"). */
export interface JsFrame {
  fn: string;
  file: string;
  line: number;
}

const JS_FRAME = /^(.*?)\s+at\s+(\S.*?)\s+line\s+(\d+)$/;

export function parseJsFrame(frame: string): JsFrame | null {
  const m = JS_FRAME.exec(frame.trim());
  return m ? { fn: m[1], file: m[2], line: Number(m[3]) } : null;
}

/** The JS frames of a stack, innermost first. */
export function jsFrames(s: StackSample): JsFrame[] {
  return s.frames.map(parseJsFrame).filter((f): f is JsFrame => f !== null);
}

/** Output of `dtrace -l`: ID PROVIDER MODULE FUNCTION NAME (module/function may be empty). */
export interface ProbeListing {
  id: number;
  provider: string;
  module: string;
  func: string;
  name: string;
}

export function parseProbeList(text: string): ProbeListing[] {
  const out: ProbeListing[] = [];
  for (const line of text.split(/\r?\n/)) {
    const cols = line.trim().split(/\s+/);
    if (!/^\d+$/.test(cols[0] || '')) continue;
    // dtrace -l leaves MODULE and FUNCTION blank for some providers: 3 or 5 columns
    if (cols.length >= 5) out.push({ id: Number(cols[0]), provider: cols[1], module: cols[2], func: cols.slice(3, -1).join(' '), name: cols[cols.length - 1] });
    else if (cols.length === 3) out.push({ id: Number(cols[0]), provider: cols[1], module: '', func: '', name: cols[2] });
  }
  return out;
}

/** A histogram in the shape the portal draws (the Linux checkers' bpftrace histograms). */
export interface HistogramData {
  kind: 'histogram';
  title: string;
  unit: string;
  /** [low, high); high is Infinity for lquantize's ">= N" row (JSON: null, drawn open). */
  buckets: { low: number; high: number; count: number }[];
}

/**
 * A quantize()/lquantize() histogram as [low, high) buckets for the portal: a row's
 * value is its low edge and the next row's value its high edge. dtrace prints an
 * empty row after the last full one, so only that row's high edge is inferred (twice
 * the value for quantize's powers of two, one more step for lquantize).
 */
export function histogramData(h: Histogram, title: string, unit: string): HistogramData {
  const rows = h.buckets;
  const buckets = rows.map((b, i) => {
    let high: number;
    if (b.label?.startsWith('>=')) high = Infinity;
    else if (i + 1 < rows.length) high = rows[i + 1].value;
    else if (i > 0 && rows[i - 1].value > 0 && b.value === rows[i - 1].value * 2) high = b.value * 2;
    else if (i > 0 && Number.isFinite(rows[i - 1].value)) high = b.value + (b.value - rows[i - 1].value);
    else high = b.value > 0 ? b.value * 2 : b.value + 1;
    return { low: b.value, high, count: b.count };
  });
  return { kind: 'histogram', title, unit, buckets };
}
