/**
 * Disposables, as in xterm.js: everything that registers a listener, timer or
 * observer hands back a disposable, and one dispose() releases them all.
 */
export interface Disposable {
  dispose(): void;
}

export class DisposableStore implements Disposable {
  private items: Disposable[] = [];
  private disposed = false;

  add<T extends Disposable>(d: T): T {
    if (this.disposed) d.dispose();
    else this.items.push(d);
    return d;
  }

  dispose(): void {
    this.disposed = true;
    const items = this.items.splice(0);
    for (const d of items.reverse()) {
      try {
        d.dispose();
      } catch (e) {
        console.error(e);
      }
    }
  }
}

export function on<K extends keyof HTMLElementEventMap>(el: HTMLElement, type: K, fn: (e: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions): Disposable;
export function on<K extends keyof WindowEventMap>(el: Window, type: K, fn: (e: WindowEventMap[K]) => void, opts?: AddEventListenerOptions): Disposable;
export function on(el: EventTarget, type: string, fn: (e: any) => void, opts?: AddEventListenerOptions): Disposable {
  el.addEventListener(type, fn, opts);
  return { dispose: () => el.removeEventListener(type, fn, opts) };
}

export function timer(fn: () => void, ms: number): Disposable {
  const t = setTimeout(fn, ms);
  return { dispose: () => clearTimeout(t) };
}

export function interval(fn: () => void, ms: number): Disposable {
  const t = setInterval(fn, ms);
  return { dispose: () => clearInterval(t) };
}

/** Tiny element builder: h('div', {class: 'x'}, 'text', child). Text is always text, never HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | undefined> = {}, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}
