/** A lab page: instructions (left), terminal (right), Check in the header. */
import '@xterm/xterm/css/xterm.css';
import { api, ApiError } from './api';
import { DisposableStore, h, on } from './dispose';
import { TerminalView, TermState } from './terminal';
import { CheckResponse, renderResults } from './results';
import { startClassBanner } from './class-banner';
import { renderFoldedArtifact } from './viz/folded';

interface Step {
  id: string;
  title: string;
  check: boolean;
  question: string | null;
  html: string;
}
interface Lab {
  id: string;
  title: string;
  summary: string;
  track: string;
  steps: Step[];
}

/** GET /api/labs/:lab/check/status (portal/server/check-queue.ts). */
interface CheckStatus {
  state: 'queued' | 'running';
  position: number;
  queued: number;
  running: number;
  limit: number;
  startedAt: number | null;
}

const CHECKING = 'Checking… this runs your app under the lab\'s tracing scripts (up to 3 minutes).';

function statusText(s: CheckStatus): string {
  if (s.state === 'queued') {
    return `Queued: position ${s.position} of ${s.queued}. The portal runs ${s.limit} check${s.limit === 1 ? '' : 's'} at a time so terminals stay responsive; yours starts when a slot frees.`;
  }
  const secs = s.startedAt ? Math.max(0, Math.round((Date.now() - s.startedAt) / 1000)) : 0;
  return `${CHECKING} Running for ${secs} s.`;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

class LabPage {
  private readonly d = new DisposableStore();
  private step = 0;
  private term!: TerminalView;
  private checking = false;
  /** Step id → passed, from the last check (marks the step pills). */
  private verdicts: Record<string, boolean> = {};

  constructor(private readonly lab: Lab) {}

  start(): void {
    const lab = this.lab;
    document.title = `${lab.title} — tracelab`;
    $('title').textContent = lab.title;
    const badge = $('track');
    badge.textContent = lab.track;
    badge.className = `badge track-${lab.track}`;
    this.term = this.d.add(new TerminalView($('term'), (s, detail) => this.termState(s, detail)));
    const saved = Number(localStorage.getItem(`tracelab:step:${lab.id}`));
    this.show(Number.isInteger(saved) && saved >= 0 && saved < lab.steps.length ? saved : 0);
    this.d.add(on($('prev'), 'click', () => this.show(this.step - 1)));
    this.d.add(on($('next'), 'click', () => this.show(this.step + 1)));
    this.d.add(on($('check'), 'click', () => this.check()));
    this.d.add(on($('artifact-close'), 'click', () => this.closeArtifact()));
    this.d.add(on($('step'), 'click', (e) => this.onStepClick(e)));
    this.d.add(on(window, 'beforeunload', () => this.d.dispose()));
    this.d.add(startClassBanner($('term-state'))); // class mode: shows when an instructor takes over the terminal
    this.splitter();
    api<CheckResponse | null>(`/api/labs/${lab.id}/check`)
      .then((r) => r && this.showResults(r), () => undefined)
      // A check still in flight from before a reload: wait for it again (asking joins it).
      .then(() => api<CheckStatus | null>(`/api/labs/${lab.id}/check/status`))
      .then((s) => s && this.check(), () => undefined);
  }

  private show(i: number): void {
    const steps = this.lab.steps;
    this.step = Math.max(0, Math.min(steps.length - 1, i));
    localStorage.setItem(`tracelab:step:${this.lab.id}`, String(this.step));
    const s = steps[this.step];
    this.renderNav();
    const article = $('step');
    article.innerHTML = s.html; // rendered by the server from markdown with raw HTML off
    // Step files often start with their own "# Title": number it rather than repeat it.
    const first = article.firstElementChild;
    if (first && first.tagName === 'H1') first.textContent = `${this.step + 1}. ${first.textContent}`;
    else article.prepend(h('h1', {}, `${this.step + 1}. ${s.title}`));
    article.dataset.step = s.id;
    $('question-slot').replaceChildren(s.question ? this.questionBox(s) : '');
    $('stepcount').textContent = `Step ${this.step + 1} of ${steps.length}`;
    ($('prev') as HTMLButtonElement).disabled = this.step === 0;
    ($('next') as HTMLButtonElement).disabled = this.step === steps.length - 1;
    $('left').scrollTop = 0;
  }

  private renderNav(): void {
    const steps = this.lab.steps;
    $('stepnav').replaceChildren(
      ...steps.map((st, k) => {
        const verdict = st.id in this.verdicts ? (this.verdicts[st.id] ? ' pass' : ' fail') : '';
        const b = h('button', { type: 'button', class: 'pill' + (k === this.step ? ' current' : '') + (st.check ? ' checked' : '') + verdict, title: st.title, 'aria-current': k === this.step ? 'step' : undefined }, String(k + 1));
        b.addEventListener('click', () => this.show(k)); // released with the element on the next replaceChildren
        return b;
      }),
    );
  }

  private onStepClick(e: MouseEvent): void {
    const t = e.target as HTMLElement;
    if (t.matches('button.run')) {
      const code = t.parentElement?.querySelector('code')?.textContent ?? '';
      this.term.typeLines(code);
      t.classList.add('ran');
    } else if (t.matches('button.artifact')) {
      this.openArtifact(t.dataset.artifact || '');
    }
  }

  private questionBox(s: Step): HTMLElement {
    const input = h('input', { type: 'text', maxlength: '200', placeholder: 'Your answer', 'aria-label': s.question! });
    const out = h('p', { class: 'answer-out' });
    const form = h('form', { class: 'question' }, h('label', {}, s.question!), h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'btn' }, 'Answer')), out);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      out.textContent = 'Recording…';
      out.className = 'answer-out muted';
      try {
        const r = await api<{ ok: boolean; output: string }>(`/api/labs/${this.lab.id}/answers/${s.id}`, { method: 'POST', body: { value: input.value } });
        out.textContent = r.output || (r.ok ? 'Recorded.' : 'Not recorded.');
        out.className = 'answer-out ' + (r.ok ? 'good' : 'bad');
      } catch (err) {
        out.textContent = (err as Error).message;
        out.className = 'answer-out bad';
      }
    });
    return form;
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    const btn = $('check') as HTMLButtonElement;
    btn.disabled = true;
    btn.textContent = 'Checking…';
    const pending = h('h3', {}, CHECKING);
    $('results-slot').replaceChildren(h('section', { class: 'results pending' }, pending));
    // The portal queues checks (a few run at a time): say whether this one waits or runs.
    const tick = () =>
      api<CheckStatus | null>(`/api/labs/${this.lab.id}/check/status`).then((s) => {
        if (s && this.checking) pending.textContent = statusText(s);
      }, () => undefined);
    const first = setTimeout(tick, 250);
    const poll = setInterval(tick, 1000);
    try {
      this.showResults(await api<CheckResponse>(`/api/labs/${this.lab.id}/check`, { method: 'POST', body: {} }));
    } catch (e) {
      const err = e as ApiError;
      this.showResults({ ok: false, lab: this.lab.id, exitCode: null, checkedAt: Date.now(), error: { code: err.code || 'ERROR', message: err.message } });
    } finally {
      clearTimeout(first);
      clearInterval(poll);
      this.checking = false;
      btn.disabled = false;
      btn.textContent = 'Check';
    }
  }

  private showResults(r: CheckResponse): void {
    const titles: Record<string, string> = {};
    for (const s of this.lab.steps) titles[s.id] = s.title;
    const el = renderResults(r, titles);
    const close = h('button', { type: 'button', class: 'close', title: 'Hide results' }, '×');
    close.addEventListener('click', () => el.remove());
    el.prepend(close);
    $('results-slot').replaceChildren(el);
    this.verdicts = {};
    for (const s of r.result?.steps ?? []) this.verdicts[s.id] = s.passed;
    this.renderNav();
  }

  private async openArtifact(name: string): Promise<void> {
    const url = `/api/labs/${this.lab.id}/artifacts/${encodeURIComponent(name)}`;
    const panel = $('artifact');
    const frame = $('artifact-frame') as HTMLIFrameElement;
    const msg = $('artifact-msg');
    const graph = $('artifact-graph');
    $('artifact-name').textContent = name;
    panel.hidden = false;
    // Ask first, so a missing file gets our message instead of a raw error inside the frame.
    const res = await fetch(url, { method: 'GET', credentials: 'same-origin' });
    if (!res.ok) {
      let why = res.statusText;
      try {
        why = (await res.json()).error.message;
      } catch {
        // keep statusText
      }
      frame.hidden = true;
      graph.hidden = true;
      msg.hidden = false;
      msg.textContent = why;
    } else if (name.endsWith('.folded')) {
      // Folded stacks are data, drawn in the page as an interactive flame graph.
      msg.hidden = true;
      frame.hidden = true;
      frame.src = 'about:blank';
      graph.replaceChildren(h('p', { class: 'artifact-note' }, 'Reading…'));
      graph.hidden = false;
      graph.replaceChildren(await renderFoldedArtifact(res, name));
    } else {
      msg.hidden = true;
      graph.hidden = true;
      graph.replaceChildren();
      frame.hidden = false;
      frame.src = url + `?t=${Date.now()}`;
    }
    this.term.refit();
  }

  private closeArtifact(): void {
    $('artifact').hidden = true;
    ($('artifact-frame') as HTMLIFrameElement).src = 'about:blank';
    $('artifact-graph').replaceChildren();
    this.term.refit();
  }

  private termState(s: TermState, detail?: string): void {
    const el = $('term-state');
    const text: Record<TermState, string> = { connecting: 'connecting…', attached: 'connected', reconnecting: 'reconnecting…', ended: 'shell ended', error: 'error' };
    el.textContent = text[s];
    el.className = `term-state ${s}`;
    el.title = detail || '';
    if (s === 'attached') this.term.focus();
  }

  /** The draggable split between instructions and terminal (position kept per browser). */
  private splitter(): void {
    const split = $('split');
    const divider = $('divider');
    const set = (pct: number) => {
      const p = Math.max(20, Math.min(70, pct));
      split.style.setProperty('--left', `${p}%`);
      localStorage.setItem('tracelab:split', String(p));
    };
    const saved = Number(localStorage.getItem('tracelab:split'));
    if (saved) set(saved);
    let drag = new DisposableStore();
    this.d.add({ dispose: () => drag.dispose() });
    this.d.add(on(divider, 'pointerdown', (e) => {
      e.preventDefault();
      divider.setPointerCapture(e.pointerId);
      split.classList.add('dragging');
      drag.dispose();
      drag = new DisposableStore();
      drag.add(on(divider, 'pointermove', (m) => set(((m.clientX - split.getBoundingClientRect().left) / split.clientWidth) * 100)));
      drag.add(on(divider, 'pointerup', () => {
        split.classList.remove('dragging');
        drag.dispose();
        this.term.refit();
      }));
    }));
    this.d.add(on(divider, 'dblclick', () => {
      set(40);
      this.term.refit();
    }));
  }
}

async function main(): Promise<void> {
  const id = decodeURIComponent(location.pathname.replace(/^\/labs\//, '').replace(/\/$/, ''));
  try {
    const lab = await api<Lab>(`/api/labs/${encodeURIComponent(id)}`);
    new LabPage(lab).start();
  } catch (e) {
    $('title').textContent = 'Lab not found';
    $('step').replaceChildren(h('p', { class: 'error' }, (e as Error).message), h('p', {}, h('a', { href: '/' }, '← All labs')));
  }
}

main();
