/**
 * `tracelab doctor`: can this machine run the labs and their checks? Each probe runs
 * the real thing once (bpftrace prints from BEGIN, the USDT addon's probe is listed,
 * perf counts a process, lldb loads llnode) rather than only looking for a binary, and
 * says what to do when it fails. The checkers make the same demands one at a time;
 * this is the whole list up front, for a self-paced learner or an instructor's host.
 */
import * as fs from 'fs';
import { CheckEnvironmentError } from '../check/types';
import { requireTracing, runBounded, which } from '../check/proc';
import { requireLabModules, usdtAddon } from '../check/labenv';
import { requirePostMortem, LLDB_PYTHONPATH } from '../check/llnode';
import { listLabs, DEFAULT_LABS_ROOT } from '../labs';

export const help = `usage: tracelab doctor [--json]

Check that this machine can run the labs on the Linux track and grade them:
Node, root, tracefs, bpftrace (runs a one-line program), the USDT addon and its
probe, perf, gcore + lldb + llnode, tmux, the labs and their npm packages.

Each line says ok or what is wrong and the command that fixes it. Exit status 0
when everything is ready, 1 when something is not. Tracing needs root: run it the
way the checks run (sudo tracelab doctor).`;

export interface Finding {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

type Probe = () => Promise<Omit<Finding, 'name'>>;

/** A CheckEnvironmentError (the checkers' own "cannot run here") becomes a finding. */
async function guarded(p: Probe): Promise<Omit<Finding, 'name'>> {
  try {
    return await p();
  } catch (e) {
    if (e instanceof CheckEnvironmentError) return { ok: false, detail: e.message, fix: e.fix };
    return { ok: false, detail: (e as Error).message };
  }
}

const firstLine = (s: string) => s.trim().split('\n').filter((l) => !/RLIMIT_MEMLOCK|setrlimit/i.test(l))[0] ?? '';

export const PROBES: Record<string, Probe> = {
  node: async () => {
    const major = Number(process.versions.node.split('.')[0]);
    return major >= 20
      ? { ok: true, detail: `node ${process.version}` }
      : { ok: false, detail: `node ${process.version}: tracelab needs Node 20 or later`, fix: 'install Node 20 (Debian: apt-get install nodejs from bookworm-backports or NodeSource)' };
  },
  root: async () =>
    typeof process.getuid !== 'function' || process.getuid() === 0
      ? { ok: true, detail: 'running as root' }
      : { ok: false, detail: 'not root: bpftrace, perf and gcore attach to other processes and the kernel', fix: 'sudo tracelab doctor (and sudo for checks)' },
  tracefs: async () => {
    await requireTracing([]); // the root check again, harmless
    if (fs.existsSync('/sys/kernel/tracing/events')) return { ok: true, detail: '/sys/kernel/tracing is mounted' };
    await requireTracing(['bpftrace']); // mounts it if it can, else throws with the fix
    return { ok: true, detail: '/sys/kernel/tracing was not mounted; mounted it now' };
  },
  bpftrace: async () => {
    await requireTracing(['bpftrace']);
    const r = await runBounded('bpftrace', ['-e', 'BEGIN { printf("tracelab-doctor-ok\\n"); exit(); }'], { timeoutMs: 30_000 });
    if (r.stdout.includes('tracelab-doctor-ok')) return { ok: true, detail: `${firstLine((await runBounded('bpftrace', ['--version'], { timeoutMs: 5000 })).stdout)} runs programs` };
    return {
      ok: false,
      detail: `bpftrace could not run a one-line program (${r.timedOut ? 'timed out' : 'code ' + r.code}): ${firstLine(r.stderr) || '(no message)'}`,
      fix: 'run as root on a kernel with BPF (a container needs --privileged); the RLIMIT_MEMLOCK warning alone is harmless',
    };
  },
  'usdt-probe': async () => {
    const addon = usdtAddon();
    if (!which('bpftrace')) return { ok: false, detail: `addon built (${addon}) but bpftrace is missing to list its probe`, fix: 'apt-get install bpftrace' };
    const r = await runBounded('bpftrace', ['-l', `usdt:${addon}:*`], { timeoutMs: 20_000 });
    return /tracelab:fire/.test(r.stdout)
      ? { ok: true, detail: `${addon} carries usdt tracelab:fire` }
      : { ok: false, detail: `bpftrace lists no tracelab:fire probe in ${addon}: ${firstLine(r.stderr) || '(nothing listed)'}`, fix: 'rebuild it: ./setup.sh deps (needs systemtap-sdt-dev)' };
  },
  perf: async () => {
    await requireTracing(['perf']);
    const r = await runBounded('perf', ['stat', '-e', 'task-clock', '--', 'true'], { timeoutMs: 20_000 });
    return r.code === 0
      ? { ok: true, detail: 'perf stat works' }
      : { ok: false, detail: `perf stat failed: ${firstLine(r.stderr)}`, fix: 'run as root, or sysctl kernel.perf_event_paranoid=1' };
  },
  'post-mortem': async () => {
    const { plugin } = requirePostMortem();
    const r = await runBounded('lldb', ['--batch', '-o', `plugin load ${plugin}`, '-o', 'help v8'], {
      timeoutMs: 30_000,
      env: { ...process.env, PYTHONPATH: LLDB_PYTHONPATH },
    });
    if (!/findjsobjects/.test(r.stdout)) {
      return { ok: false, detail: `lldb could not load llnode (${plugin}): ${firstLine(r.stderr) || firstLine(r.stdout)}`, fix: 'rebuild it: ./setup.sh deps (scripts/setup.d/40-llnode.sh; needs liblldb-14-dev)' };
    }
    let scope = '';
    try {
      scope = fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim();
    } catch {
      /* no Yama: ptrace limited only by uid */
    }
    if (scope === '3') return { ok: false, detail: 'kernel.yama.ptrace_scope=3: no process may be attached to, so gcore cannot take a core', fix: 'reboot with a lower ptrace_scope (3 cannot be lowered at run time)' };
    return { ok: true, detail: `gcore, lldb and llnode load (${plugin})${scope ? `; ptrace_scope=${scope}` : ''}` };
  },
  tmux: async () => {
    const r = which('tmux') ? await runBounded('tmux', ['-V'], { timeoutMs: 5000 }) : null;
    return r && r.code === 0 ? { ok: true, detail: r.stdout.trim() } : { ok: false, detail: 'tmux is not installed (the browser terminal runs in it)', fix: 'apt-get install tmux' };
  },
  labs: async () => {
    const labs = listLabs(DEFAULT_LABS_ROOT);
    if (!labs.length) return { ok: false, detail: `no labs found under ${DEFAULT_LABS_ROOT}`, fix: 'set TRACELAB_LABS to the labs directory, or run from the tracelab checkout' };
    requireLabModules(['restify', 'dtrace-provider']);
    return { ok: true, detail: `${labs.length} labs under ${DEFAULT_LABS_ROOT}; restify and dtrace-provider installed` };
  },
};

/** Probes that cannot say anything useful without root: not tried when root failed. */
const NEED_ROOT = new Set(['tracefs', 'bpftrace', 'usdt-probe', 'perf', 'post-mortem']);

export async function diagnose(names = Object.keys(PROBES), earlier: Finding[] = []): Promise<Finding[]> {
  const out: Finding[] = [];
  // One at a time: they are quick, and bpftrace/perf/lldb side by side would only contend.
  for (const name of names) {
    const notRoot = [...earlier, ...out].some((f) => f.name === 'root' && !f.ok);
    if (notRoot && NEED_ROOT.has(name)) out.push({ name, ok: false, detail: 'not tried: needs root (see above)' });
    else out.push({ name, ...(await guarded(PROBES[name])) });
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  let json = false;
  for (const a of argv) {
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') {
      console.log(help);
      return 0;
    } else {
      console.error(`tracelab doctor: unknown option '${a}'\n\n${help}`);
      return 2;
    }
  }
  const findings: Finding[] = [];
  for (const name of Object.keys(PROBES)) {
    const tty = !json && process.stdout.isTTY;
    if (tty) process.stdout.write(`  … ${name}`);
    const [f] = await diagnose([name], findings);
    findings.push(f);
    if (!json) {
      console.log(`${tty ? '\r\x1b[K' : ''}${f.ok ? '✔' : '✘'} ${f.name.padEnd(12)} ${f.detail}`);
      if (f.fix) console.log(`  ${' '.repeat(12)} fix: ${f.fix}`);
    }
  }
  const bad = findings.filter((f) => !f.ok);
  if (json) console.log(JSON.stringify({ ok: bad.length === 0, findings }, null, 2));
  else console.log(bad.length ? `\n${bad.length} of ${findings.length} not ready.` : `\nready: every lab can run and be checked here.`);
  return bad.length ? 1 : 0;
}
