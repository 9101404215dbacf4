/**
 * One LabHost per user, created from the configured backend and started once
 * (concurrent callers share the start). Host state is saved in the store so a
 * restarted portal re-attaches instead of starting hosts again.
 *
 * While a host starts, Hosts follows its progress() and remembers the latest
 * event, so every page (and a page that reconnects mid-boot) and the instructor
 * dashboard read the same status: `status(user)` now, `onStatus()` as it changes.
 */
import { EventEmitter } from 'events';
import { createHost } from '../hosts';
import type { LabHost } from '../hosts/types';
import type { Store } from '../store';
import { mapDiskFull } from '../store/full';
import type { Config } from '../../src/config';

export type HostStatusState = 'starting' | 'running' | 'dead';

export interface HostStatus {
  state: HostStatusState;
  percent: number;
  message: string;
  /** When dead: the LabHostError code (HOST_START_FAILED, HOST_UNREACHABLE, ...). */
  code?: string;
}

type Entry = { host: LabHost; ready: Promise<LabHost>; forgotten?: boolean };

export class Hosts {
  private hosts = new Map<string, Entry>();
  private statuses = new Map<string, HostStatus>();
  /** 'status' (user: string, status: HostStatus): a host's start progressed, finished or failed. */
  readonly events = new EventEmitter();
  /** Class mode (portal/class) sets this: a student's backend comes from their class, not the config. */
  backendOf: (user: string) => { kind: string; extra?: Record<string, unknown> } | null = () => null;

  constructor(
    private readonly config: Config,
    private readonly store: Store,
  ) {
    // One listener per page waiting on a start, plus the dashboard: not a leak.
    this.events.setMaxListeners(0);
  }

  /** The user's host, started. Rejects with a LabHostError the page can show. */
  get(user: string): Promise<LabHost> {
    let entry = this.hosts.get(user);
    if (!entry) {
      const host = this.create(user);
      const saved = this.store.loadHost(user);
      if (saved && saved.kind === host.kind) host.loadState(saved.state);
      this.setStatus(user, { state: 'starting', percent: 0, message: 'starting' });
      const ready = host.start().then(
        () => {
          this.store.saveHost(user, host.kind, host.getState());
          return host;
        },
        // A workspace copied into a full data dir (local backends): say so, not ENOSPC.
        (e) => {
          throw mapDiskFull(e, this.config.dataDir);
        },
      );
      entry = { host, ready };
      this.hosts.set(user, entry);
      this.follow(user, entry);
      // A failed start is not cached: the next request tries again (e.g. after `apt-get install tmux`).
      ready.catch(() => this.hosts.get(user) === entry && this.hosts.delete(user));
    }
    return entry.ready;
  }

  /** The latest status of the user's host since the portal started (null: never asked for). */
  status(user: string): HostStatus | null {
    const s = this.statuses.get(user);
    return s ? { ...s } : null;
  }

  /** Call `cb` on every status change of any user's host; returns the unsubscribe. */
  onStatus(cb: (user: string, status: HostStatus) => void): () => void {
    this.events.on('status', cb);
    return () => this.events.off('status', cb);
  }

  private setStatus(user: string, s: HostStatus): void {
    this.statuses.set(user, s);
    this.events.emit('status', user, { ...s });
  }

  /** Relay a starting host's progress() into its status until start() settles. */
  private follow(user: string, entry: Entry): void {
    let settled = false;
    const current = () => !entry.forgotten && !settled;
    // Settle a turn later: events the backend pushed just before start() settled are
    // still in flight to the loop below, and the dashboard should see how far it got.
    const settle = (s: () => HostStatus) =>
      setImmediate(() => {
        if (entry.forgotten) return;
        settled = true;
        this.setStatus(user, s());
      });
    entry.ready.then(
      () => settle(() => ({ state: 'running', percent: 100, message: 'ready' })),
      (e: any) =>
        settle(() => {
          const last = this.statuses.get(user);
          return { state: 'dead', percent: last ? last.percent : 0, message: String((e && e.message) || e), code: (e && e.code) || 'HOST_INTERNAL' };
        }),
    );
    void (async () => {
      try {
        // A backend's feed may never close after a failure: stop at the first event after start() settled.
        for await (const p of entry.host.progress()) {
          if (!current()) break;
          this.setStatus(user, { state: 'starting', percent: p.percent, message: p.message });
        }
      } catch {
        // progress is best-effort; start() says whether the host came up
      }
    })();
  }

  /** The host's track without starting it (pages render before a terminal is opened). */
  track(user: string): LabHost['track'] {
    const e = this.hosts.get(user);
    if (e) return e.host.track;
    return this.create(user).track;
  }

  /** The user's host if one was asked for since the portal started (no start). */
  peek(user: string): LabHost | null {
    return this.hosts.get(user)?.host ?? null;
  }

  /** Forget a user's host (class mode's reset: the next get() starts a fresh one). */
  forget(user: string): void {
    const e = this.hosts.get(user);
    if (e) e.forgotten = true;
    this.hosts.delete(user);
    this.statuses.delete(user);
  }

  private create(user: string): LabHost {
    const b = this.backendOf(user);
    return createHost(b ? b.kind : this.config.hostBackend, { user, dataDir: this.config.dataDir, labsDir: this.config.labsDir, extra: b?.extra });
  }
}
