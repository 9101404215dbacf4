/**
 * An interactive flame graph drawn with plain DOM: one box per frame, width = samples,
 * root at the bottom. Click a box to zoom into it (its ancestors stay, dimmed, below;
 * click one of them or "Reset" to zoom out); type in Search to highlight matching
 * frames and see their share of all samples. Data: a tree {n: name, v: samples, c: children}.
 */
import { h } from '../dispose';

export interface FlameNode {
  n: string;
  v: number;
  c?: FlameNode[];
}
export interface FlameGraphData {
  kind: 'flamegraph';
  title?: string;
  unit?: string;
  root: FlameNode;
}

const ROW = 16;
/** Boxes narrower than this share of the focused frame are not drawn (unreadable, and many). */
const MIN_SHARE = 0.002;

interface Item {
  node: FlameNode;
  parent: number;
  depth: number;
  kids: number[];
}

/** Flame graph palette: JS green, node internals aqua, C++ yellow, other native orange, unknown grey. */
export function frameColor(name: string): string {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) >>> 0;
  const jitter = (hash % 1000) / 1000;
  if (name === '[unknown]' || name === 'all') return 'hsl(0, 0%, 62%)';
  if (/ node:\S+:\d+$/.test(name)) return `hsl(${175 + jitter * 15}, 45%, ${55 + jitter * 10}%)`;
  if (/ \S+:\d+$/.test(name)) return `hsl(${95 + jitter * 35}, 50%, ${50 + jitter * 12}%)`;
  if (name.includes('::')) return `hsl(${45 + jitter * 12}, 75%, ${55 + jitter * 10}%)`;
  return `hsl(${10 + jitter * 25}, 80%, ${58 + jitter * 8}%)`;
}

function validNode(n: any): n is FlameNode {
  return n && typeof n.n === 'string' && typeof n.v === 'number' && n.v >= 0;
}

export function renderFlameGraph(d: FlameGraphData): HTMLElement {
  const box = h('div', { class: 'viz viz-flamegraph', 'data-kind': 'flamegraph' });
  const title = h('div', { class: 'viz-title' }, d.title || 'flame graph');
  box.append(title);
  if (!validNode(d.root) || !d.root.v) {
    box.append(h('div', { class: 'muted' }, 'no samples'));
    return box;
  }
  // Flatten once, so a box's data-i finds its node and its parents.
  const items: Item[] = [];
  const walk = (node: FlameNode, parent: number, depth: number) => {
    const i = items.push({ node, parent, depth, kids: [] }) - 1;
    if (parent >= 0) items[parent].kids.push(i);
    if (Array.isArray(node.c)) for (const c of node.c) if (validNode(c)) walk(c, i, depth + 1);
  };
  walk(d.root, -1, 0);
  const total = d.root.v;

  const search = h('input', { type: 'search', placeholder: 'Search frames (regex)', 'aria-label': 'Search frames' });
  const reset = h('button', { type: 'button', class: 'viz-reset' }, 'Reset zoom');
  // Two lines under the graph: what is hovered (changes as the mouse moves), and the
  // view's state (zoom, search matches), which must not be overwritten by hovering.
  const info = h('div', { class: 'viz-fg-info' }, 'hover over a frame for its samples; click to zoom');
  const status = h('div', { class: 'viz-fg-info viz-fg-status' });
  const graph = h('div', { class: 'viz-fg', role: 'img', 'aria-label': d.title || 'flame graph' });
  box.append(h('div', { class: 'viz-fg-bar' }, search, reset), graph, info, status);

  let focus = 0;
  let term: RegExp | null = null;

  const describe = (it: Item) => `${it.node.n} — ${it.node.v} ${d.unit || 'samples'} (${((100 * it.node.v) / total).toFixed(1)}%)`;

  const draw = () => {
    graph.textContent = '';
    const ancestors = new Set<number>();
    for (let a = items[focus].parent; a >= 0; a = items[a].parent) ancestors.add(a);
    const boxes: { i: number; left: number; width: number; depth: number; anc: boolean }[] = [];
    for (const a of ancestors) boxes.push({ i: a, left: 0, width: 1, depth: items[a].depth, anc: true });
    const place = (i: number, left: number, width: number) => {
      boxes.push({ i, left, width, depth: items[i].depth, anc: false });
      let x = left;
      for (const ci of items[i].kids) {
        const w = (width * items[ci].node.v) / Math.max(items[i].node.v, 1);
        if (w >= MIN_SHARE) place(ci, x, w);
        x += w;
      }
    };
    place(focus, 0, 1);
    const maxDepth = Math.max(...boxes.map((b) => b.depth));
    graph.style.height = `${(maxDepth + 1) * ROW}px`;
    let matched = 0;
    const matchedUnder = new Set<number>();
    for (const b of boxes) {
      const it = items[b.i];
      const el = h('div', { class: 'fr' + (b.anc ? ' anc' : ''), 'data-i': String(b.i), title: describe(it) }, it.node.n);
      el.style.left = `${(100 * b.left).toFixed(4)}%`;
      el.style.width = `${(100 * b.width).toFixed(4)}%`;
      el.style.bottom = `${b.depth * ROW}px`;
      el.style.background = frameColor(it.node.n);
      if (term && term.test(it.node.n)) {
        el.classList.add('hit');
        // Count a match once, not again under a matching ancestor.
        let p = it.parent;
        let covered = false;
        while (p >= 0) {
          if (matchedUnder.has(p)) covered = true;
          p = items[p].parent;
        }
        if (!covered && !b.anc) matched += it.node.v;
        matchedUnder.add(b.i);
      }
      graph.append(el);
    }
    const parts = [focus ? `zoomed: ${describe(items[focus])}` : `${total} ${d.unit || 'samples'}`];
    if (term) parts.push(`matched ${((100 * matched) / total).toFixed(1)}%`);
    status.textContent = parts.join(' · ');
  };

  graph.addEventListener('click', (e) => {
    const el = (e.target as HTMLElement).closest('.fr') as HTMLElement | null;
    if (!el) return;
    const i = Number(el.dataset.i);
    focus = i === focus ? (items[i].parent >= 0 ? items[i].parent : 0) : i;
    draw();
  });
  graph.addEventListener('mouseover', (e) => {
    const el = (e.target as HTMLElement).closest('.fr') as HTMLElement | null;
    if (el) info.textContent = describe(items[Number(el.dataset.i)]);
  });
  reset.addEventListener('click', () => {
    focus = 0;
    draw();
  });
  search.addEventListener('input', () => {
    const v = search.value.trim();
    try {
      term = v ? new RegExp(v, 'i') : null;
    } catch {
      term = new RegExp(v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
    }
    draw();
  });
  draw();
  return box;
}
