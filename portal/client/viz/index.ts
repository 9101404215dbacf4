/**
 * Pictures for a check step's `data` (StepResult.data), drawn with plain DOM/SVG:
 *   {kind:'histogram', title, unit, buckets:[{low, high, count}]}   bpftrace hist / DTrace quantize
 *   {kind:'counts', title, items:[[name, count]]}                    count() aggregations
 *   {kind:'series', title, unit, xUnit, series:[{label, points:[[x, y]]}]}   e.g. RSS over time
 *   {kind:'flamegraph', title, unit, root:{n, v, c:[...]}}          interactive flame graph
 *   {kind:'histograms'|'flamegraphs'|'charts', items:[...]}         several, side by side
 * Contract (results.ts): return an element to show under the step's message, or null
 * for data this does not know (never throw: a bad picture must not hide the result).
 */
import { h } from '../dispose';
import { ensureStyle } from './style';
import { renderHistogram, renderCounts, type HistogramData, type CountsData } from './histogram';
import { renderSeries, type SeriesData } from './series';
import { renderFlameGraph, type FlameGraphData } from './flamegraph';

const GROUPS = new Set(['histograms', 'flamegraphs', 'charts']);

function renderOne(data: any): HTMLElement | null {
  if (!data || typeof data !== 'object') return null;
  switch (data.kind) {
    case 'histogram':
      return renderHistogram(data as HistogramData);
    case 'counts':
      return renderCounts(data as CountsData);
    case 'series':
      return renderSeries(data as SeriesData);
    case 'flamegraph':
      return renderFlameGraph(data as FlameGraphData);
    default:
      if (GROUPS.has(data.kind) && Array.isArray(data.items)) {
        const parts = data.items.map(renderOne).filter((e: HTMLElement | null): e is HTMLElement => !!e);
        if (!parts.length) return null;
        // Histograms stack (their rows line up); flame graphs and plots sit side by side.
        return h('div', { class: data.kind === 'histograms' ? 'viz viz-stack' : 'viz viz-grid', 'data-kind': data.kind }, ...parts);
      }
      return null;
  }
}

export function renderStepData(data: unknown): HTMLElement | null {
  try {
    ensureStyle();
    return renderOne(data);
  } catch (e) {
    console.error('viz:', e);
    return null;
  }
}
