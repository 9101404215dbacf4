/**
 * Every labs/<id>/linux/*.bt: shebang, executable bit, the "Hit Ctrl-C to end."
 * banner (STYLE.md), and a bpftrace dry run (-d: parse, semantic checks, probe
 * resolution; nothing is attached). Positional parameters are supplied from how
 * the script uses them: `$N` in an attach point (usdt:$1:...) is the USDT addon's
 * path, anywhere else a number (a PID, seconds). Every .d has its .bt and back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync, spawn, type ChildProcess } from 'child_process';
import { DEFAULT_LABS_ROOT } from '../../src/labs';
import { usdtAddon } from '../../src/check/labenv';

function scripts(sub: string, ext: string): string[] {
  if (!fs.existsSync(DEFAULT_LABS_ROOT)) return [];
  return fs
    .readdirSync(DEFAULT_LABS_ROOT)
    .filter((id) => fs.existsSync(path.join(DEFAULT_LABS_ROOT, id, sub)))
    .flatMap((id) =>
      fs
        .readdirSync(path.join(DEFAULT_LABS_ROOT, id, sub))
        .filter((f) => f.endsWith(ext))
        .map((f) => path.join(DEFAULT_LABS_ROOT, id, sub, f)),
    );
}

/** Arguments for a dry run, derived from the script's use of $1, $2, ... */
export function dryRunArgs(src: string): string[] {
  const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  let n = 0;
  for (const m of code.matchAll(/\$(\d+)/g)) n = Math.max(n, Number(m[1]));
  const args: string[] = [];
  for (let i = 1; i <= n; i++) {
    const inAttach = new RegExp(`^\\s*(usdt|uprobe|uretprobe):[^\\n{]*\\$${i}\\b`, 'm').test(code);
    args.push(inAttach ? usdtAddon() : '1');
  }
  return args;
}

/**
 * Scripts that attach with -p to `usdt:*:...` resolve the probe in that process's
 * mappings even in a dry run: give them a node process that has loaded the addon.
 */
async function withAddonProcess<T>(fn: (pid: number) => T): Promise<T> {
  const child: ChildProcess = spawn(process.execPath, ['-e', `require(${JSON.stringify(usdtAddon())}); console.log('ready'); setInterval(function () {}, 1000);`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (c) => reject(new Error(`addon holder exited ${c}`)));
    });
    return fn(child.pid!);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
  }
}

for (const bt of scripts('linux', '.bt')) {
  const rel = path.relative(DEFAULT_LABS_ROOT, bt);
  test(`${rel}: header conventions and a bpftrace dry run`, async () => {
    const src = fs.readFileSync(bt, 'utf8');
    assert.match(src.split('\n')[0], /^#!.*bpftrace/, 'first line is a bpftrace shebang');
    assert.ok(fs.statSync(bt).mode & 0o111, 'the script is executable');
    assert.match(src, /Hit Ctrl-C to end\./, 'prints "Tracing... Hit Ctrl-C to end."');
    assert.match(src, /USAGE/i, 'the header says how to run it');
    // Scripts written for -c (they use cpid) need a child command even to dry-run.
    const child = /\bcpid\b/.test(src.replace(/\/\*[\s\S]*?\*\//g, '')) ? ['-c', '/bin/true'] : [];
    const code = src.replace(/\/\*[\s\S]*?\*\//g, '');
    const dry = (extra: string[]) => spawnSync('bpftrace', ['-d', ...extra, ...child, bt, ...dryRunArgs(src)], { encoding: 'utf8', timeout: 60000 });
    const r = /^\s*usdt:\*:/m.test(code) ? await withAddonProcess((pid) => dry(['-p', String(pid)])) : dry([]);
    const errors = r.stderr
      .split('\n')
      .filter((l) => /ERROR|WARNING/.test(l) && !/RLIMIT_MEMLOCK/.test(l));
    assert.equal(r.status, 0, `bpftrace -d failed:\n${errors.join('\n')}\n${r.stderr.slice(-2000)}`);
    assert.deepEqual(errors, [], 'the dry run printed errors or warnings');
  });
}

for (const d of scripts('illumos', '.d')) {
  const rel = path.relative(DEFAULT_LABS_ROOT, d);
  test(`${rel}: shebang, executable, and a Linux twin`, () => {
    const src = fs.readFileSync(d, 'utf8');
    assert.match(src.split('\n')[0], /^#!\/usr\/sbin\/dtrace/, 'first line is a dtrace shebang');
    assert.ok(fs.statSync(d).mode & 0o111, 'the script is executable');
    // The talk's typos must not come back.
    const code = src.replace(/\/\*[\s\S]*?\*\//g, '');
    assert.doesNotMatch(code, /syscall::(entry|return)\b|probfunc\b/, 'the talk typos (syscall::entry, probfunc) are corrected');
    const labDir = path.dirname(path.dirname(d));
    const twins = fs.existsSync(path.join(labDir, 'linux')) ? fs.readdirSync(path.join(labDir, 'linux')) : [];
    const base = path.basename(d, '.d');
    assert.ok(twins.some((f) => f.startsWith(base + '.')), `no linux/${base}.* beside illumos/${base}.d`);
  });
}
