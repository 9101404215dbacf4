/**
 * In-page instrumentation for the browser benchmarks, installed with
 * page.addInitScript so it is there before the terminal exists.
 *
 * It records each trusted keydown's event.timeStamp and watches what the renderer
 * shows: with xterm's DOM renderer, a MutationObserver on .xterm-rows fires right
 * after the render pass that put the echo in the DOM (the frame then paints); with a
 * canvas/WebGL renderer there is no text in the DOM, so we use the Terminal's own
 * onRender event (wetty exposes its Terminal as window.wetty_term). Either way the
 * time taken is "keydown → the render that shows it", in the page's clock.
 */
export const PROBE = `(() => {
  const B = (window.__bench = { down: 0, waits: [] });
  addEventListener('keydown', (e) => { B.down = e.timeStamp; B.arrived = 0; B.check(); }, true);
  // When the first WebSocket message carrying the awaited text arrived (before xterm
  // parses and renders it): splits "network + server" from "parse + frame wait".
  const WS = window.WebSocket;
  const dec = new TextDecoder('latin1');
  window.WebSocket = class extends WS {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (ev) => {
        if (!B.down || B.arrived || !B.expect) return;
        const d = typeof ev.data === 'string' ? ev.data : dec.decode(ev.data);
        if (d.includes(B.expect)) B.arrived = performance.now();
      });
    }
  };
  B.term = () => window.wetty_term || window.tracelabTerm || null;
  B.canvas = () => !!document.querySelector('.xterm-screen canvas');
  // The text of the row holding the cursor, trailing blanks dropped.
  B.cursorRow = () => {
    const t = B.term();
    if (B.canvas() && t) {
      const buf = t.buffer.active;
      const line = buf.getLine(buf.baseY + buf.cursorY);
      return line ? line.translateToString(true).slice(0, buf.cursorX) : '';
    }
    const cur = document.querySelector('.xterm-rows .xterm-cursor');
    const row = cur && cur.closest('.xterm-rows > div');
    if (!row) return '';
    let s = '';
    for (const n of row.childNodes) { if (n === cur || n.contains && n.contains(cur)) break; s += n.textContent; }
    return s.replace(/\\s+$/, '');
  };
  // All visible text (sentinel search).
  B.screen = () => {
    const t = B.term();
    if (B.canvas() && t) {
      const buf = t.buffer.active; let s = '';
      for (let y = 0; y < t.rows; y++) { const l = buf.getLine(buf.viewportY + y); if (l) s += l.translateToString(true) + '\\n'; }
      return s;
    }
    const r = document.querySelector('.xterm-rows');
    return r ? Array.from(r.children, (row) => row.textContent).join('\\n') : '';
  };
  B.check = () => {
    if (!B.waits.length) return;
    const now = performance.now();
    B.waits = B.waits.filter((w) => {
      if ((w.sinceKey && !B.down) || !w.pred()) return true;
      w.resolve(w.sinceKey ? [now - B.down, B.arrived ? B.arrived - B.down : NaN] : now - w.t0);
      return false;
    });
  };
  // Resolve the ms from the next keydown (or from now) until pred() holds after a render.
  B.until = (pred, sinceKey, ms, expect) => new Promise((resolve, reject) => {
    const w = { pred, sinceKey, t0: performance.now(), resolve };
    B.down = 0;
    B.arrived = 0;
    B.expect = expect || '';
    B.waits.push(w);
    setTimeout(() => { if (B.waits.includes(w)) { B.waits = B.waits.filter((x) => x !== w); reject(new Error('bench probe: timed out; row=' + JSON.stringify(B.cursorRow()))); } }, ms || 10000);
  });
  B.watch = () => {
    if (B.watching) return true;
    const rows = document.querySelector('.xterm-rows');
    const t = B.term();
    if (t && t.onRender) { t.onRender(() => B.check()); B.watching = 'onRender'; }
    if (rows) { new MutationObserver(() => B.check()).observe(rows, { childList: true, subtree: true, characterData: true }); B.watching = B.watching || 'mutation'; }
    return !!B.watching;
  };
})();`;
