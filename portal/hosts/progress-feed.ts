/**
 * A replayable stream of progress events for LabHost.progress(): every consumer
 * sees all events so far, then new ones, until the feed is closed. Slow starts
 * (a VM boot) push into it; the portal's progress bar reads it.
 */
import type { Progress } from './types';

export class ProgressFeed {
  private readonly events: Progress[] = [];
  private closed = false;
  private wake: (() => void)[] = [];

  push(percent: number, message: string): void {
    if (this.closed) return;
    this.events.push({ percent: Math.max(0, Math.min(100, Math.round(percent))), message });
    this.flush();
  }

  /** No more events; consumers finish after the ones already pushed. */
  close(): void {
    this.closed = true;
    this.flush();
  }

  /** Start over (a host started again after stop()). */
  reset(): void {
    this.events.length = 0;
    this.closed = false;
  }

  get last(): Progress | undefined {
    return this.events[this.events.length - 1];
  }

  private flush(): void {
    const w = this.wake;
    this.wake = [];
    for (const f of w) f();
  }

  async *stream(): AsyncIterable<Progress> {
    let i = 0;
    for (;;) {
      while (i < this.events.length) yield this.events[i++];
      if (this.closed) return;
      await new Promise<void>((r) => this.wake.push(r));
    }
  }
}
