/**
 * The listeners behind a ShellStream's onData / onExit. `emit` calls a snapshot, so a
 * listener may dispose itself (or another) while it runs; `emitLast` calls them once
 * and forgets them all (an exit is reported once).
 */
export class Listeners<T> {
  private cbs: ((v: T) => void)[] = [];

  add(cb: (v: T) => void): { dispose(): void } {
    this.cbs.push(cb);
    return { dispose: () => void (this.cbs = this.cbs.filter((x) => x !== cb)) };
  }

  emit(v: T): void {
    for (const cb of this.cbs.slice()) cb(v);
  }

  emitLast(v: T): void {
    const cbs = this.cbs;
    this.cbs = [];
    for (const cb of cbs) cb(v);
  }
}
