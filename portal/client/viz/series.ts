/** Values over time (lab 4's RSS and heap), as an SVG line plot with axes and a legend. */
import { h } from '../dispose';

export interface SeriesData {
  kind: 'series';
  title?: string;
  unit?: string;
  xUnit?: string;
  series: { label: string; points: [number, number][] }[];
}

const COLORS = ['#ff7b72', '#5cb8ff', '#6fcf7f', '#e5c07b'];
const W = 480;
const H = 200;
const PAD = { l: 44, r: 10, t: 8, b: 24 };
const NS = 'http://www.w3.org/2000/svg';

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** 0, 20, 40...: about `n` round steps covering [0, max]. */
export function ticks(max: number, n = 4): number[] {
  if (!(max > 0)) return [0];
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [0];
  // The last tick is at or above max, so the plot never runs off its top.
  while (out[out.length - 1] < max - step * 1e-9) out.push(Math.round((out[out.length - 1] + step) * 1e6) / 1e6);
  return out;
}

export function renderSeries(d: SeriesData): HTMLElement {
  const series = (Array.isArray(d.series) ? d.series : []).map((s) => ({
    label: String(s.label ?? ''),
    points: (Array.isArray(s.points) ? s.points : []).filter((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1])),
  }));
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1e-9, ...all.map((p) => p[0]));
  const yTicks = ticks(Math.max(1e-9, ...all.map((p) => p[1])));
  const yMax = yTicks[yTicks.length - 1] || 1;
  const xTicks = ticks(xMax, 6);
  const x = (v: number) => PAD.l + ((W - PAD.l - PAD.r) * v) / Math.max(xMax, xTicks[xTicks.length - 1]);
  const y = (v: number) => H - PAD.b - ((H - PAD.t - PAD.b) * v) / yMax;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': d.title ?? 'plot' });
  for (const t of yTicks) {
    root.append(svg('line', { x1: PAD.l, x2: W - PAD.r, y1: y(t), y2: y(t), stroke: '#2d323c', 'stroke-width': 1 }));
    root.append(svg('text', { x: PAD.l - 4, y: y(t) + 4, 'text-anchor': 'end' }, String(t)));
  }
  for (const t of xTicks) root.append(svg('text', { x: x(t), y: H - 6, 'text-anchor': 'middle' }, `${t}${d.xUnit ?? ''}`));
  series.forEach((s, i) => {
    if (!s.points.length) return;
    const path = s.points.map((p, j) => `${j ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    root.append(svg('path', { d: path, fill: 'none', stroke: COLORS[i % COLORS.length], 'stroke-width': 2, 'data-series': s.label }));
  });
  const legend = h('div', { class: 'viz-legend' },
    ...series.map((s, i) => {
      const last = s.points[s.points.length - 1];
      const sw = h('i', {});
      sw.style.background = COLORS[i % COLORS.length];
      return h('span', {}, sw, `${s.label}${last ? ` (${last[1]} ${d.unit ?? ''} at ${last[0]}${d.xUnit ?? ''})` : ' (no data)'}`);
    }),
  );
  const box = h('div', { class: 'viz viz-series', 'data-kind': 'series' },
    h('div', { class: 'viz-title' }, d.title || 'over time', d.unit ? h('span', { class: 'muted' }, ` (${d.unit})`) : null),
  );
  box.append(root, legend);
  return box;
}
