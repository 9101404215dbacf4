/** The pictures' CSS, injected once: the viz owns its look without touching style.css. */
const CSS = `
.viz { margin: 10px 0 4px; font: 12px/1.4 var(--sans, sans-serif); color: var(--text, #dde1e8); }
.viz-title { font-weight: 600; margin: 0 0 4px; }
.viz-title .muted { font-weight: 400; }
.viz-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 12px; }
.viz-hist { display: grid; grid-template-columns: max-content 1fr max-content; gap: 1px 8px; align-items: center; font-family: var(--mono, monospace); }
.viz-hist .lab { text-align: right; color: var(--muted, #8b93a1); }
.viz-hist .bar { height: 12px; background: var(--accent, #5cb8ff); border-radius: 2px; min-width: 1px; }
.viz-hist .bar.zero { background: transparent; }
.viz-hist .n { text-align: right; }
.viz-fg { position: relative; background: var(--code, #0f1115); border: 1px solid var(--line, #2d323c); border-radius: 4px; overflow: hidden; }
.viz-fg .fr { position: absolute; height: 15px; box-sizing: border-box; border: 1px solid var(--code, #0f1115); border-radius: 2px;
  font: 11px/13px var(--mono, monospace); color: #111; padding: 0 3px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; cursor: pointer; }
.viz-fg .fr.anc { opacity: 0.55; }
.viz-fg .fr.hit { background: #e46cf0 !important; }
.viz-fg .fr:hover { border-color: #fff; }
.viz-fg-bar { display: flex; gap: 6px; align-items: center; margin: 0 0 4px; }
.viz-fg-bar input { flex: 1; min-width: 60px; font: 12px var(--sans, sans-serif); background: var(--panel2, #22262e); color: inherit; border: 1px solid var(--line, #2d323c); border-radius: 4px; padding: 2px 6px; }
.viz-fg-bar button { font: 12px var(--sans, sans-serif); background: var(--panel2, #22262e); color: inherit; border: 1px solid var(--line, #2d323c); border-radius: 4px; padding: 2px 8px; cursor: pointer; }
.viz-fg-info { min-height: 17px; font-family: var(--mono, monospace); color: var(--muted, #8b93a1); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.viz-series svg { width: 100%; height: auto; display: block; }
.viz-series text { fill: var(--muted, #8b93a1); font: 11px var(--sans, sans-serif); }
.viz-legend { display: flex; gap: 14px; margin-top: 2px; }
.viz-legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 5px; }
`;

export function ensureStyle(): void {
  if (document.getElementById('viz-style')) return;
  const s = document.createElement('style');
  s.id = 'viz-style';
  s.textContent = CSS;
  document.head.append(s);
}
