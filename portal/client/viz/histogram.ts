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

export function renderHistogram(d: HistogramData): HTMLElement {
  const buckets = Array.isArray(d.buckets) ? d.buckets.filter((b) => b && typeof b.count === 'number') : [];
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const total = buckets.reduce((s, b) => s + b.count, 0);
  const rows: HTMLElement[] = [];
  for (const b of buckets) {
    // bpftrace prints a one-value bucket as [N]; lhist/hist give [low, high).
    const label = b.high === b.low + 1 ? `[${shortNumber(b.low)}]` : `[${shortNumber(b.low)}, ${shortNumber(b.high)})`;
    const bar = h('div', { class: 'bar' + (b.count ? '' : ' zero'), title: `${b.count} of ${total}` });
    bar.style.width = `${(100 * b.count) / max}%`;
    rows.push(h('span', { class: 'lab' }, label), h('div', {}, bar), h('span', { class: 'n' }, String(b.count)));
  }
  return h('div', { class: 'viz viz-histogram', 'data-kind': 'histogram' },
    h('div', { class: 'viz-title' }, d.title || 'histogram', d.unit ? h('span', { class: 'muted' }, ` (${d.unit})`) : null),
    buckets.length ? h('div', { class: 'viz-hist' }, ...rows) : h('div', { class: 'muted' }, 'no samples'),
  );
}
