/**
 * One LabHost per user, created from the configured backend and started once
 * (concurrent callers share the start). Host state is saved in the store so a
 * restarted portal re-attaches instead of starting hosts again.
 */
import { createHost } from '../hosts';
import type { LabHost } from '../hosts/types';
import type { Store } from '../store';
import type { Config } from '../../src/config';

export class Hosts {
  private hosts = new Map<string, { host: LabHost; ready: Promise<LabHost> }>();
  /** Class mode (portal/class) sets this: a student's backend comes from their class, not the config. */
  backendOf: (user: string) => { kind: string; extra?: Record<string, unknown> } | null = () => null;

  constructor(
    private readonly config: Config,
    private readonly store: Store,
  ) {}

  /** The user's host, started. Rejects with a LabHostError the page can show. */
  get(user: string): Promise<LabHost> {
    let entry = this.hosts.get(user);
    if (!entry) {
      const host = this.create(user);
      const saved = this.store.loadHost(user);
      if (saved && saved.kind === host.kind) host.loadState(saved.state);
      const ready = host.start().then(() => {
        this.store.saveHost(user, host.kind, host.getState());
        return host;
      });
      entry = { host, ready };
      this.hosts.set(user, entry);
      // A failed start is not cached: the next request tries again (e.g. after `apt-get install tmux`).
      ready.catch(() => this.hosts.delete(user));
    }
    return entry.ready;
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
    this.hosts.delete(user);
  }

  private create(user: string): LabHost {
    const b = this.backendOf(user);
    return createHost(b ? b.kind : this.config.hostBackend, { user, dataDir: this.config.dataDir, labsDir: this.config.labsDir, extra: b?.extra });
  }
}
