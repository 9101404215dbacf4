/**
 * Post-mortem from a checker: take a core of a running process with gdb's gcore, open
 * it in lldb with the llnode plugin, run llnode commands in ONE lldb session (loading a
 * core costs seconds; commands that need an address found by an earlier command run in
 * a small Python driver inside lldb), and always delete the core (0.6-1.2 GB).
 */
import * as fs from 'fs';
import * as path from 'path';
import { CheckEnvironmentError } from './types';
import { runBounded, which } from './proc';
import { INSTALL_ROOT } from '../labs';

/** Debian's lldb 14 prints a Python traceback at start unless its module is on the path. */
export const LLDB_PYTHONPATH = '/usr/lib/llvm-14/lib/python3.11/dist-packages';

export function llnodePlugin(): string {
  const candidates = [
    process.env.TRACELAB_LLNODE,
    path.join(INSTALL_ROOT, 'labs', 'node_modules', 'llnode', 'llnode.so'),
    path.join(INSTALL_ROOT, 'node_modules', 'llnode', 'llnode.so'),
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new CheckEnvironmentError(
      `the llnode lldb plugin is not built (looked for ${candidates.join(', ')})`,
      'run ./setup.sh deps (scripts/setup.d/40-llnode.sh builds llnode against lldb 14; needs liblldb-14-dev)',
    );
  }
  return found;
}

export function requirePostMortem(): { lldb: string; gcore: string; plugin: string } {
  const lldb = which('lldb');
  const gcore = which('gcore');
  if (!lldb || !gcore) {
    const pkgs = [!lldb && 'lldb liblldb-14-dev', !gcore && 'gdb'].filter(Boolean).join(' ');
    throw new CheckEnvironmentError(`this check needs ${[!lldb && 'lldb', !gcore && 'gcore'].filter(Boolean).join(' and ')}`, `apt-get install ${pkgs}`);
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new CheckEnvironmentError('gcore needs to attach to the app (ptrace): run as root', 'sudo tracelab check ...');
  }
  return { lldb, gcore, plugin: llnodePlugin() };
}

/** gcore PID into `dir`; returns the core's path. The caller deletes it (see withCore). */
export async function takeCore(pid: number, dir: string, timeoutMs: number): Promise<string> {
  const prefix = path.join(dir, 'core');
  const r = await runBounded('gcore', ['-o', prefix, String(pid)], { timeoutMs });
  const core = `${prefix}.${pid}`;
  if (r.code !== 0 || !fs.existsSync(core)) {
    fs.rmSync(core, { force: true });
    throw new Error(`gcore ${pid} failed (${r.timedOut ? 'timed out' : 'code ' + r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}`);
  }
  return core;
}

/**
 * Run a Python driver inside lldb with the core loaded and llnode plugged in. The driver
 * defines `main(run)` (run(cmd) -> output) and returns a JSON-able value; we get it back.
 */
export async function llnodeScript(opts: { node: string; core: string; driverBody: string; scratch: string; timeoutMs: number }): Promise<unknown> {
  const { plugin } = requirePostMortem();
  const driver = path.join(opts.scratch, 'tracelab_llnode_driver.py');
  fs.writeFileSync(
    driver,
    [
      'import lldb, json, re',
      opts.driverBody,
      'def __lldb_init_module(debugger, internal_dict):',
      '    ci = debugger.GetCommandInterpreter()',
      '    def run(cmd):',
      '        r = lldb.SBCommandReturnObject()',
      '        ci.HandleCommand(cmd, r)',
      "        return (r.GetOutput() or '') + (r.GetError() or '')",
      '    try:',
      "        print('@@TRACELAB@@' + json.dumps(main(run)))",
      '    except Exception as e:',
      "        print('@@TRACELAB@@' + json.dumps({'error': repr(e)}))",
      '',
    ].join('\n'),
  );
  const r = await runBounded(
    'lldb',
    ['-x', '-b', '-o', `plugin load ${plugin}`, '-o', `command script import ${driver}`, opts.node, '-c', opts.core],
    { timeoutMs: opts.timeoutMs, env: { ...process.env, PYTHONPATH: LLDB_PYTHONPATH }, maxOutputBytes: 8 * 1024 * 1024 },
  );
  const m = /@@TRACELAB@@(.*)/.exec(r.stdout);
  if (!m) {
    throw new Error(`lldb + llnode gave no answer (${r.timedOut ? 'timed out' : 'code ' + r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  }
  return JSON.parse(m[1]);
}

/** `v8 findjsobjects` table -> instances by constructor name. */
export function parseFindJsObjects(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S.*?)\s*$/.exec(line);
    if (m) out.set(m[3], (out.get(m[3]) ?? 0) + Number(m[1]));
  }
  return out;
}

/** `v8 inspect ADDR` -> property name -> printed value (strings unquoted, Smis as numbers). */
export function parseInspect(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\.([\w$]+)=(?:0x[0-9a-f]+:)?<(?:String: "((?:[^"\\]|\\.)*)"|Smi: (-?\d+)|([^>]*))>/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.set(m[1], m[2] ?? m[3] ?? m[4]);
  return out;
}

/** `v8 findrefs -v ADDR` lines "0x...: Promotion.coupon=0x..." -> ["Promotion.coupon"]. */
export function parseFindRefs(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^0x[0-9a-f]+: ([^=]+?)=0x[0-9a-f]+/.exec(line.trim());
    if (m) out.push(m[1]);
  }
  return out;
}
