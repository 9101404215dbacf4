/**
 * A TEST BACKEND for the portal's host-start progress (test/server/host-progress.test.ts,
 * test/e2e/host-progress.test.ts), registered in the host registry by those tests only:
 * a real LabHost whose start() takes about a second and reports progress through a
 * ProgressFeed (as the vagrant backend does), then hands shells to the real local host.
 * Users whose name starts with "fail" fail their first start with HOST_START_FAILED.
 */
import { HOST_BACKENDS } from '../../portal/hosts';
import { LocalHost } from '../../portal/hosts/local';
import { ProgressFeed } from '../../portal/hosts/progress-feed';
import { ExecOptions, ExecResult, LabHost, LabHostError, Progress, ShellStream, Track } from '../../portal/hosts/types';

export const BACKEND = 'test-slow-start';
export const STEP_MS = 300;
export const SLOW_STEPS: [number, string][] = [
  [10, 'creating the VM'],
  [40, 'booting'],
  [80, 'provisioning'],
];

/** Users whose first start fails (then succeeds): a Retry after the student fixed something. */
const failedOnce = new Set<string>();

/** Test backend: a start that takes ~1 s with progress, then the local host's real shells. */
export class SlowStartTestHost implements LabHost {
  readonly kind = BACKEND;
  readonly track: Track = 'linux';
  private readonly feed = new ProgressFeed();
  private readonly local: LocalHost;

  constructor(
    private readonly user: string,
    dataDir: string,
    labsDir: string,
    private readonly failFirst: boolean,
  ) {
    this.local = new LocalHost({ user, dataDir, labsDir });
  }

  get workspace(): string {
    return this.local.workspace;
  }

  async start(): Promise<void> {
    this.feed.reset();
    for (const [percent, message] of SLOW_STEPS) {
      await new Promise((r) => setTimeout(r, STEP_MS));
      this.feed.push(percent, message);
      if (this.failFirst && percent >= 40 && !failedOnce.has(this.user)) {
        failedOnce.add(this.user);
        // Like vagrant.ts: the feed is left open after a failure; Hosts must not wait on it.
        throw new LabHostError('HOST_START_FAILED', "vagrant up lab failed (exit 1): The box 'tracelab-illumos' could not be found");
      }
    }
    await this.local.start();
    this.feed.push(100, 'ready');
    this.feed.close();
  }

  poll(): Promise<number | null> {
    return this.local.poll();
  }
  stop(): Promise<void> {
    return this.local.stop();
  }
  getState(): Record<string, unknown> {
    return this.local.getState();
  }
  loadState(state: Record<string, unknown>): void {
    this.local.loadState(state);
  }
  progress(): AsyncIterable<Progress> {
    return this.feed.stream();
  }
  openShell(opts: { cols: number; rows: number; spectate?: boolean }): Promise<ShellStream> {
    return this.local.openShell(opts);
  }
  exec(argv: string[], opts: ExecOptions): Promise<ExecResult> {
    return this.local.exec(argv, opts);
  }
}


/** Add the test backend to the registry; returns the removal. */
export function registerSlowStartBackend(): () => void {
  HOST_BACKENDS[BACKEND] = (o) => new SlowStartTestHost(o.user, o.dataDir, o.labsDir, o.user.startsWith('fail'));
  return () => {
    delete HOST_BACKENDS[BACKEND];
  };
}
