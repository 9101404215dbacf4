/** bpftrace `hist` / DTrace `quantize` buckets, parsed by a checker, drawn as bars. */
import { h } from '../dispose';

export interface Bucket {
  low: number;
  /** null (JSON's Infinity) for an open last bucket. */
  high: number | null;
  count: number;
}
export interface HistogramData {
  kind: 'histogram';
  title?: string;
  unit?: string;
  buckets: Bucket[];
}

/** bpftrace's labels: 1024 -> 1K, 1048576 -> 1M. */
export function shortNumber(n: number | null | undefined): string {
  // JSON turns bpftrace's open last bucket ("[1M, ...)", high = Infinity) into null.
  if (n === null || n === undefined || n === Infinity) return '...';
  if (!Number.isFinite(n)) return '-∞';
  const units: [number, string][] = [[2 ** 40, 'T'], [2 ** 30, 'G'], [2 ** 20, 'M'], [2 ** 10, 'K']];
  for (const [v, s] of units) if (Math.abs(n) >= v && n % v === 0) return n / v + s;
  return String(n);
}

/** A count aggregation (`@[name] = count()` / DTrace `count()`): [name, count] pairs, drawn as labelled bars. */
export interface CountsData {
  kind: 'counts';
  title?: string;
  unit?: string;
  items: [string, number][];
}

/** Rows of label | bar | count, the layout of bpftrace's own hist output. */
function bars(kind: string, title: string, unit: string | undefined, rowsIn: { label: string; count: number }[]): HTMLElement {
  const max = Math.max(1, ...rowsIn.map((r) => r.count));
  const total = rowsIn.reduce((s, r) => s + r.count, 0);
  const rows: HTMLElement[] = [];
  for (const r of rowsIn) {
    const bar = h('div', { class: 'bar' + (r.count ? '' : ' zero'), title: `${r.count} of ${total}` });
    bar.style.width = `${(100 * r.count) / max}%`;
    rows.push(h('span', { class: 'lab' }, r.label), h('div', {}, bar), h('span', { class: 'n' }, String(r.count)));
  }
  return h('div', { class: `viz viz-${kind}`, 'data-kind': kind },
    h('div', { class: 'viz-title' }, title, unit ? h('span', { class: 'muted' }, ` (${unit})`) : null),
    rows.length ? h('div', { class: 'viz-hist' }, ...rows) : h('div', { class: 'muted' }, 'no samples'),
  );
}

export function renderHistogram(d: HistogramData): HTMLElement {
  const buckets = Array.isArray(d.buckets) ? d.buckets.filter((b) => b && typeof b.count === 'number') : [];
  return bars('histogram', d.title || 'histogram', d.unit, buckets.map((b) => ({
    // bpftrace prints a one-value bucket as [N]; lhist/hist give [low, high).
    label: b.high === b.low + 1 ? `[${shortNumber(b.low)}]` : `[${shortNumber(b.low)}, ${shortNumber(b.high)})`,
    count: b.count,
  })));
}

export function renderCounts(d: CountsData): HTMLElement {
  const items = Array.isArray(d.items) ? d.items.filter((i) => Array.isArray(i) && typeof i[1] === 'number') : [];
  return bars('counts', d.title || 'counts', d.unit, items.map(([name, count]) => ({ label: String(name), count })));
}
