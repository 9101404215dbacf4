/**
 * "Your shell ended", shown over the terminal when the server sends EXIT: why (where
 * the server could tell, portal/server/terminal/exit-reason.ts) and a button that opens
 * a fresh shell in the same workspace. Any key in the terminal does the same (the
 * terminal keeps focus, so a student who just types is not stuck).
 *
 * The card sits at the top of the terminal over a dimmed screen, so the shell's last
 * output stays readable under it. Styles travel with the component, as in progress.ts.
 */
import { EXIT_REASON, ExitReason } from '../shared/protocol';
import { Disposable, DisposableStore, h, on } from './dispose';

const CSS = `
.shell-ended { position: absolute; inset: 0; z-index: 4; display: flex; align-items: flex-start; justify-content: center; padding-top: 12%; background: rgba(15, 17, 21, .72); }
.shell-ended[hidden] { display: none; }
.shell-ended .box { width: min(480px, 88%); padding: 16px 18px 14px; border: 1px solid var(--line, #2d323c); border-left: 4px solid var(--bad, #ff7b72); border-radius: 8px; background: var(--panel, #1b1e25); font: 14px/1.5 var(--sans, sans-serif); color: var(--text, #dde1e8); box-shadow: 0 6px 24px rgba(0, 0, 0, .45); }
.shell-ended .title { font-weight: 600; font-size: 15px; margin-bottom: 4px; }
.shell-ended .why { margin: 0 0 4px; }
.shell-ended .kept { margin: 0 0 12px; color: var(--muted, #8b93a1); font-size: 13px; }
.shell-ended .row { display: flex; align-items: center; gap: 12px; }
.shell-ended .hint { color: var(--muted, #8b93a1); font-size: 12px; }
`;

function ensureStyles(): void {
  if (document.getElementById('shell-ended-css')) return;
  const style = h('style', { id: 'shell-ended-css' });
  style.textContent = CSS;
  document.head.appendChild(style);
}

/** What the page says for each reason; `code` is the attaching process's exit code. */
export function endedText(reason: ExitReason | undefined, code: number | null): string {
  switch (reason) {
    case EXIT_REASON.EXIT:
      return 'The shell exited (exit or Ctrl-D).';
    case EXIT_REASON.ENDED:
      return 'The shell ended: it exited or was killed.';
    case EXIT_REASON.SESSION_KILLED:
      return 'The terminal session was killed (its tmux server stopped), and the shell with it.';
    case EXIT_REASON.DETACHED:
      return 'This terminal was cut off from your shell.';
    case EXIT_REASON.LOST:
      return `The connection to your terminal session (tmux) was lost${code !== null ? ` (code ${code})` : ''}: it was killed or stopped answering.`;
    default:
      // The code is the attaching process's (a tmux client), not the shell's: said, not explained.
      return code !== null && code !== 0 ? `The shell ended (code ${code}).` : 'The shell ended.';
  }
}

export class ShellEndedView implements Disposable {
  private readonly d = new DisposableStore();
  private readonly root: HTMLElement;
  private readonly why: HTMLElement;
  private readonly button: HTMLButtonElement;

  /** `container` is the terminal's element; the notice covers it. */
  constructor(
    container: HTMLElement,
    private readonly onNewShell: () => void,
  ) {
    ensureStyles();
    if (getComputedStyle(container).position === 'static') container.style.position = 'relative';
    this.why = h('p', { class: 'why' });
    this.button = h('button', { class: 'btn primary new-shell', type: 'button' }, 'Start a new shell');
    this.root = h(
      'div',
      { class: 'shell-ended', role: 'alert', hidden: '' },
      h(
        'div',
        { class: 'box' },
        h('div', { class: 'title' }, 'Your shell ended'),
        this.why,
        h('p', { class: 'kept' }, 'Your files in the workspace are kept.'),
        h('div', { class: 'row' }, this.button, h('span', { class: 'hint' }, 'or press any key in the terminal')),
      ),
    );
    container.appendChild(this.root);
    this.d.add({ dispose: () => this.root.remove() });
    this.d.add(on(this.button, 'click', () => this.onNewShell()));
  }

  show(reason: ExitReason | undefined, code: number | null): void {
    this.why.textContent = endedText(reason, code);
    this.root.dataset.reason = reason || EXIT_REASON.UNKNOWN;
    this.button.disabled = false;
    this.root.hidden = false;
  }

  /** A new shell is on its way: the button does nothing twice. */
  starting(): void {
    this.button.disabled = true;
    this.button.textContent = 'Starting…';
  }

  hide(): void {
    this.root.hidden = true;
    this.button.disabled = false;
    this.button.textContent = 'Start a new shell';
  }

  get visible(): boolean {
    return !this.root.hidden;
  }

  dispose(): void {
    this.d.dispose();
  }
}
