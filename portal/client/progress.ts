/**
 * The lab host's start, shown over the terminal: a progress bar with the backend's
 * current message while the host boots (a Vagrant VM takes minutes), and on a failed
 * start the host's own explanation with a Retry button. Fed by the terminal socket's
 * HOST_PROGRESS / HOST_ERROR messages (portal/shared/protocol.ts).
 *
 * The bar appears only if the host is still starting after SHOW_AFTER_MS: a local
 * host is ready in milliseconds and should not flash a bar on every page load.
 * Styles travel with the component so the overlay works on any page that has a terminal.
 */
import { Disposable, DisposableStore, h, on, timer } from './dispose';

const SHOW_AFTER_MS = 300;

const CSS = `
.host-start { position: absolute; inset: 0; z-index: 5; display: flex; align-items: center; justify-content: center; background: var(--code, #0f1115); }
.host-start[hidden] { display: none; }
.host-start .box { width: min(460px, 86%); font: 14px var(--sans, sans-serif); color: var(--text, #d8dee9); }
.host-start .title { font-weight: 600; margin-bottom: 10px; }
.host-start .bar { height: 10px; border-radius: 5px; background: var(--panel2, #262b35); border: 1px solid var(--line, #3b4252); overflow: hidden; }
.host-start .fill { height: 100%; width: 0; background: var(--accent, #61afef); transition: width .3s ease; }
.host-start .msg { margin-top: 8px; color: var(--muted, #9aa3b2); font-size: 13px; overflow-wrap: anywhere; }
.host-start.failed .title { color: var(--bad, #e06c75); }
.host-start.failed .bar { display: none; }
.host-start.failed .msg { color: var(--text, #d8dee9); white-space: pre-wrap; }
.host-start .retry { margin-top: 12px; }
`;

function ensureStyles(): void {
  if (document.getElementById('host-start-css')) return;
  const style = h('style', { id: 'host-start-css' });
  style.textContent = CSS;
  document.head.appendChild(style);
}

export class HostStartView implements Disposable {
  private readonly d = new DisposableStore();
  private readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly fill: HTMLElement;
  private readonly msg: HTMLElement;
  private readonly retryBtn: HTMLButtonElement;
  private showTimer: Disposable | null = null;

  /** `container` is the terminal's element; the overlay covers it. */
  constructor(
    container: HTMLElement,
    private readonly onRetry: () => void,
  ) {
    ensureStyles();
    if (getComputedStyle(container).position === 'static') container.style.position = 'relative';
    this.title = h('div', { class: 'title' }, 'Starting your lab host…');
    this.fill = h('div', { class: 'fill' });
    this.msg = h('div', { class: 'msg', 'aria-live': 'polite' });
    this.retryBtn = h('button', { class: 'btn retry', type: 'button', hidden: '' }, 'Retry');
    const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100' }, this.fill);
    this.root = h('div', { class: 'host-start', hidden: '' }, h('div', { class: 'box' }, this.title, bar, this.msg, this.retryBtn));
    container.appendChild(this.root);
    this.d.add({ dispose: () => this.root.remove() });
    this.d.add(on(this.retryBtn, 'click', () => {
      this.retryBtn.disabled = true;
      this.progress(0, 'retrying');
      this.onRetry();
    }));
  }

  /** The host is starting: percent 0..100 and what it is doing now. */
  progress(percent: number, message: string): void {
    this.root.classList.remove('failed');
    this.title.textContent = 'Starting your lab host…';
    this.fill.style.width = `${Math.max(0, Math.min(100, percent))}%`;
    this.root.querySelector('.bar')!.setAttribute('aria-valuenow', String(percent));
    this.msg.textContent = `${percent}% — ${message}`;
    this.retryBtn.hidden = true;
    if (this.root.hidden && !this.showTimer) {
      this.showTimer = this.d.add(timer(() => (this.root.hidden = false), SHOW_AFTER_MS));
    }
  }

  /** The host did not start: show why, and a Retry button (the page does not reconnect by itself). */
  failed(code: string, message: string): void {
    this.cancelShow();
    this.root.classList.add('failed');
    this.title.textContent = 'Your lab host did not start';
    this.msg.textContent = `${message} (${code})`;
    this.retryBtn.hidden = false;
    this.retryBtn.disabled = false;
    this.root.hidden = false;
  }

  /** The shell is ready: the terminal takes over. */
  hide(): void {
    this.cancelShow();
    this.root.hidden = true;
  }

  private cancelShow(): void {
    if (this.showTimer) this.showTimer.dispose();
    this.showTimer = null;
  }

  dispose(): void {
    this.d.dispose();
  }
}
