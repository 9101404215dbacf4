/**
 * Post-mortem from a checker: take a core of a running process with gdb's gcore, open
 * it in lldb with the llnode plugin, run llnode commands in ONE lldb session (loading a
 * core costs seconds; commands that need an address found by an earlier command run in
 * a small Python driver inside lldb), and always delete the core.
 *
 * What made it slow, and what this file does about it (docs/performance.md, lab 5):
 * - lldb 14 reads node's DWARF, where GCC split functions (uv__io_poll and its
 *   .cold part, 13 MB apart) have one range spanning both; building unwind plans for
 *   the threads at core load then disassembles megabytes: 4 s. lldb gets a copy of
 *   node without debug info (symbols kept, so llnode finds V8's metadata), cached.
 * - gdb's gcore writes every mapping, even reserved PROT_NONE ones: V8's 512 MB code
 *   range, 64 MB malloc arenas per thread, 8 MB stacks. SMALL_CORE starts the app
 *   without them: 631 MB -> 32 MB, the same JS heap.
 */
import * as crypto from 'crypto';
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
 * How a checker starts an app it will gcore: the same program and JS heap, minus the
 * reservations gcore would write out as zeros. --jitless: V8 reserves no executable
 * code range (510 MB); --no-expose-wasm: silences the warning --jitless prints;
 * --v8-pool-size=1: 1 V8 worker thread instead of 4 (8 MB stack each);
 * MALLOC_ARENA_MAX=1: no 64 MB malloc arena per thread.
 */
export const SMALL_CORE = {
  nodeArgs: ['--jitless', '--no-expose-wasm', '--v8-pool-size=1'],
  env: { MALLOC_ARENA_MAX: '1' },
};

/**
 * Where the copy of node for lldb lives between checks: TRACELAB_LLNODE_CACHE, else
 * /var/cache/tracelab/llnode (checks run as root). null when it cannot be made: each
 * check then makes its own copy in its scratch dir, and is still right.
 */
export function llnodeCacheDir(): string | null {
  const dir = process.env.TRACELAB_LLNODE_CACHE || '/var/cache/tracelab/llnode';
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.accessSync(dir, fs.constants.W_OK);
    return dir;
  } catch {
    return null;
  }
}

/**
 * node without its DWARF (objcopy --strip-debug keeps .symtab, .dynsym and the build
 * id, all llnode and lldb's core matching need), for lldb to load instead of node:
 * see the top of this file. Named after node's path, size and mtime, so a new node
 * gets a new copy and the old one is removed. Falls back to node itself (right, 4 s
 * slower) when objcopy is missing or fails.
 */
export async function lldbExecutable(node: string, scratch: string, log: (m: string) => void = () => {}): Promise<string> {
  const real = fs.realpathSync(node);
  const st = fs.statSync(real);
  const tag = crypto.createHash('sha1').update(real).digest('hex').slice(0, 8);
  const name = `node-${tag}-${st.size}-${Math.floor(st.mtimeMs / 1000)}`;
  const cache = llnodeCacheDir();
  const dir = cache ?? scratch;
  const copy = path.join(dir, name);
  if (fs.existsSync(copy)) return copy;
  if (!which('objcopy')) {
    log('objcopy (binutils) not found: lldb reads node with its debug info (about 4 s slower)');
    return real;
  }
  // Concurrent checks may both build it: each writes its own file, the rename is atomic.
  const tmp = path.join(dir, `.${name}.${process.pid}.${Date.now()}`);
  const r = await runBounded('objcopy', ['--strip-debug', real, tmp], { timeoutMs: 60_000 });
  if (r.code !== 0 || !fs.existsSync(tmp)) {
    fs.rmSync(tmp, { force: true });
    log(`objcopy --strip-debug ${real} failed (${r.stderr.trim().split('\n')[0]}): lldb reads node with its debug info`);
    return real;
  }
  fs.renameSync(tmp, copy);
  if (cache) {
    for (const f of fs.readdirSync(cache)) {
      if (f.startsWith(`node-${tag}-`) && f !== name) fs.rmSync(path.join(cache, f), { force: true });
    }
  }
  return copy;
}

/**
 * Run a Python driver inside lldb with the core loaded and llnode plugged in. The driver
 * defines `main(run)` (run(cmd) -> output) and returns a JSON-able value; we get it back.
 */
export async function llnodeScript(opts: { node: string; core: string; driverBody: string; scratch: string; timeoutMs: number; log?: (m: string) => void }): Promise<unknown> {
  const { plugin } = requirePostMortem();
  const exe = await lldbExecutable(opts.node, opts.scratch, opts.log);
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
  // Not lldb 14's index cache (symbols.enable-lldb-index-cache): it saves 1.5 s of CPU
  // when warm, but a warm lldb then finds none of node's symbols and exits at the first
  // lookup, so llnode sees an empty heap.
  // -O, before the target loads: no separate debug files from /usr/lib/debug (with
  // libc6-dbg installed, indexing libc's DWARF costs ~0.3 s; llnode needs none of it).
  const r = await runBounded(
    'lldb',
    ['-x', '-b', '-O', 'settings set symbols.enable-external-lookup false', '-o', `plugin load ${plugin}`, '-o', `command script import ${driver}`, exe, '-c', opts.core],
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
