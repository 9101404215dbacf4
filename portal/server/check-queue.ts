/**
 * The portal's check queue: at most `limit` checks run at once (default one per core),
 * the others wait and start in the order they were asked for; a student has at most one
 * check in flight.
 *
 * Why: a check is a Node CLI plus the lab's tracers (bpftrace, perf, gcore + lldb) and
 * the student's app. Twenty of them started at once on a 2-core machine took the CPU
 * from tmux and the portal, and every terminal froze for seconds (docs/robustness.md,
 * Load). Queued, they finish in about the same total time and the terminals keep
 * moving.
 *
 * A job is only called when it gets a slot, so anything it times (the check's own
 * timeout) starts when the check starts, not when it was queued. A job that fails,
 * throws or times out frees its slot like one that passes.
 */
import * as os from 'os';
import { PortalError } from './errors';

export interface CheckStatus {
  lab: string;
  state: 'queued' | 'running';
  /** 1-based place in the queue while queued (1 = next to start); 0 while running. */
  position: number;
  /** Checks waiting in all (this one included while queued). */
  queued: number;
  /** Checks running now, and how many may. */
  running: number;
  limit: number;
  queuedAt: number;
  startedAt: number | null;
}

interface Entry<T> {
  user: string;
  lab: string;
  job: () => Promise<T>;
  promise: Promise<T>;
  settle: { resolve(v: T): void; reject(e: unknown): void };
  queuedAt: number;
  startedAt: number | null;
}

/** The default number of concurrent checks: the machine's cores (at least one). */
export function defaultCheckConcurrency(): number {
  return Math.max(1, os.cpus().length);
}

export class CheckQueue<T> {
  readonly limit: number;
  /** The most checks that ever ran at once (the benchmark and tests read it). */
  peakRunning = 0;
  private readonly waiting: Entry<T>[] = [];
  private readonly running = new Set<Entry<T>>();
  /** user → their check in flight (queued or running). */
  private readonly byUser = new Map<string, Entry<T>>();

  constructor(opts: { limit?: number } = {}) {
    const n = opts.limit ?? defaultCheckConcurrency();
    if (!Number.isInteger(n) || n < 1) throw new Error(`check concurrency must be an integer >= 1 (got ${n})`);
    this.limit = n;
  }

  /**
   * Run `job` for `user`'s check of `lab` when a slot is free. The same student asking
   * again for the same lab while it is in flight gets the same promise (`joined`: the
   * page was reloaded, or the button pressed twice); asking for another lab meanwhile
   * is CHECK_BUSY, naming the one in flight.
   */
  submit(user: string, lab: string, job: () => Promise<T>): { promise: Promise<T>; joined: boolean } {
    const cur = this.byUser.get(user);
    if (cur) {
      if (cur.lab === lab) return { promise: cur.promise, joined: true };
      const what = cur.startedAt === null ? 'waiting for a free slot' : 'running';
      throw new PortalError('CHECK_BUSY', `your check of ${cur.lab} is still ${what}; when it has answered, press Check again for ${lab}`);
    }
    let settle!: Entry<T>['settle'];
    const promise = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
    const e: Entry<T> = { user, lab, job, promise, settle, queuedAt: Date.now(), startedAt: null };
    this.byUser.set(user, e);
    this.waiting.push(e);
    this.pump();
    return { promise, joined: false };
  }

  /** Where `user`'s check stands, or null when they have none in flight. */
  status(user: string): CheckStatus | null {
    const e = this.byUser.get(user);
    if (!e) return null;
    const i = this.waiting.indexOf(e);
    return {
      lab: e.lab,
      state: i >= 0 ? 'queued' : 'running',
      position: i + 1,
      queued: this.waiting.length,
      running: this.running.size,
      limit: this.limit,
      queuedAt: e.queuedAt,
      startedAt: e.startedAt,
    };
  }

  stats(): { running: number; queued: number; limit: number; peakRunning: number } {
    return { running: this.running.size, queued: this.waiting.length, limit: this.limit, peakRunning: this.peakRunning };
  }

  private pump(): void {
    while (this.running.size < this.limit && this.waiting.length) {
      const e = this.waiting.shift()!;
      this.running.add(e);
      this.peakRunning = Math.max(this.peakRunning, this.running.size);
      e.startedAt = Date.now();
      let p: Promise<T>;
      try {
        p = Promise.resolve(e.job());
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        (v) => this.finish(e, () => e.settle.resolve(v)),
        (err) => this.finish(e, () => e.settle.reject(err)),
      );
    }
  }

  private finish(e: Entry<T>, settle: () => void): void {
    this.running.delete(e);
    if (this.byUser.get(e.user) === e) this.byUser.delete(e.user);
    // Free the slot before anyone awaiting this check runs: the next check starts now.
    this.pump();
    settle();
  }
}
