/**
 * The ssh LabHost against a loopback OpenSSH server (test/hosts/sshd-fixture.ts):
 * start() (one round trip: tools, tmux.conf, workspace), exec() round trip of a
 * trivial command, poll(), time to the first byte of a terminal, and the time a
 * terminal takes to come back after its connection is dropped. Each ssh call is a
 * fresh connection (no ControlMaster), so these are upper bounds per call.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { SshHost, ReattachingShell } from '../../portal/hosts/ssh';
import { startSshd, sshdAvailable } from '../hosts/sshd-fixture';
import { summarize, table, fmt } from './lib/stats';

const N = 15;

export async function run(): Promise<void> {
  const why = sshdAvailable();
  if (why) {
    console.log(`skipped: ${why}`);
    return;
  }
  const sshd = await startSshd();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-sshbench-'));
  const socket = `tracelab-bench-${process.pid}`;
  fs.mkdirSync(path.join(work, 'ws'));
  try {
    const host = new SshHost({ user: 'bench', host: sshd.hostAlias, inventory: sshd.inventory, knownHosts: sshd.knownHosts, workspace: path.join(work, 'ws'), stateDir: path.join(work, 'state'), tmuxSocket: socket });
    const starts: number[] = [];
    const execs: number[] = [];
    const polls: number[] = [];
    const firstByte: number[] = [];
    const reattach: number[] = [];
    for (let i = 0; i < N; i++) {
      let t = performance.now();
      await host.start();
      starts.push(performance.now() - t);
      t = performance.now();
      await host.exec(['true'], { timeoutMs: 30_000 });
      execs.push(performance.now() - t);
      t = performance.now();
      await host.poll();
      polls.push(performance.now() - t);
    }
    ReattachingShell.retryDelayMs = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const sh = (await host.openShell({ cols: 80, rows: 24 })) as ReattachingShell;
      await new Promise<void>((r) => {
        const d = sh.onData(() => {
          d.dispose();
          r();
        });
      });
      firstByte.push(performance.now() - t);
      // drop the connection; time until the re-attached shell answers again
      let seen = '';
      sh.onData((b) => (seen += b.toString()));
      const t2 = performance.now();
      sshd.dropConnections();
      while (!/BACK-\d+/.test(seen.replace(/echo BACK-\$\(\(1\+1\)\)/g, ''))) {
        if (sh.reattached > 0) sh.write('echo BACK-$((1+1))\r');
        await new Promise((r) => setTimeout(r, 20));
        if (performance.now() - t2 > 30_000) throw new Error('no re-attach in 30 s');
      }
      reattach.push(performance.now() - t2);
      const exited = new Promise((r) => sh.onExit(r));
      sh.kill();
      await exited;
    }
    const row = (name: string, s: number[]) => {
      const x = summarize(s);
      return [name, x.n, fmt(x.p50), fmt(x.p95), fmt(x.max)];
    };
    table([
      ['ssh host, loopback (ms)', 'n', 'p50', 'p95', 'max'],
      row('start()', starts),
      row('exec(["true"])', execs),
      row('poll()', polls),
      row('openShell → first byte', firstByte),
      row('dropped → shell answers again', reattach),
    ]);
  } finally {
    spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    fs.rmSync(path.join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid!()}`, socket), { force: true });
    await sshd.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
