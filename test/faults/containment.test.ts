/**
 * A hostile student app during a real check (lab 1's checker, `tracelab check --json`
 * as the portal runs it): a fork bomb that escapes its process group, an output flood,
 * a 10 GB file, a disk filled with many files, an app that never exits and ignores
 * SIGTERM. Each must end in a clear failed result, inside the check's bound, with
 * nothing of it left running (/proc), no cgroup left, and the machine fine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import { checkedLabs, copyLab, rmCopy, processesUsing, CLI } from '../lab/helpers';
import { containmentSupport, APP_PIDS_MAX, APP_MAX_FILE_BYTES } from '../../src/check/limits';

const LAB = checkedLabs().find((id) => id === '01-bug-hunt');
const canTrace = typeof process.getuid === 'function' && process.getuid() === 0 && fs.existsSync('/usr/bin/bpftrace');
const skip = !LAB ? 'lab 01 missing' : !canTrace ? 'needs root and bpftrace' : false;

/** A marker the hostile app puts in every process it starts, so the test can find them in /proc. */
const TAG = `tl-hostile-${process.pid}`;

interface Run {
  code: number | null;
  result: any;
  stderr: string;
  ms: number;
  cliPid: number;
}

/** `tracelab check 1 --json --dir DIR`, with a hard outer bound the check must never reach. */
function check(dir: string, env: NodeJS.ProcessEnv = {}, timeoutS = 60): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, [CLI, 'check', '1', '--json', '--timeout', String(timeoutS), '--dir', dir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => (out.length < 4 * 1024 * 1024 ? (out += b) : undefined));
    p.stderr.on('data', (b) => (err.length < 64 * 1024 ? (err += b) : undefined));
    const hard = setTimeout(() => p.kill('SIGKILL'), (timeoutS + 30) * 1000);
    p.on('close', (code) => {
      clearTimeout(hard);
      let result: any = null;
      try {
        result = JSON.parse(out);
      } catch {
        result = { unparsed: out.slice(0, 2000) };
      }
      resolve({ code, result, stderr: err, ms: Date.now() - t0, cliPid: p.pid! });
    });
  });
}

/** Live (non-zombie) processes carrying TAG in their command line or environment (the app itself is found by its cwd). */
function tagged(): string[] {
  const found: string[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
      const env = fs.readFileSync(`/proc/${d}/environ`, 'utf8');
      if (cmd.includes(TAG) || env.includes(TAG)) found.push(`${d}: ${cmd.replace(/\0/g, ' ')}`);
    } catch {
      // gone
    }
  }
  return found;
}

/** Cgroup leaves the CLI process made (named c<pid>-...): none may survive it. */
function leftoverLeaves(cliPid: number): string[] {
  const out: string[] = [];
  for (const base of ['/sys/fs/cgroup/tracelab', '/sys/fs/cgroup/unified/tracelab', '/sys/fs/cgroup/pids/tracelab']) {
    try {
      for (const n of fs.readdirSync(base)) if (n.startsWith(`c${cliPid}-`)) out.push(path.join(base, n));
    } catch {
      // hierarchy not there
    }
  }
  return out;
}

function procCount(): number {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
}

/** Everything a test asserts after a hostile run. */
async function assertClean(dir: string, run: Run): Promise<void> {
  // Killed processes may take a moment to be reaped by init; they must be gone, not merely dying.
  for (let i = 0; i < 40 && (tagged().length || processesUsing(dir).length); i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(tagged(), [], 'no process of the hostile app survives the check');
  assert.deepEqual(processesUsing(dir), [], 'no process runs in or mentions the lab copy');
  assert.deepEqual(leftoverLeaves(run.cliPid), [], 'the check removed its cgroup');
}

function hostile(dir: string, source: string): void {
  fs.writeFileSync(path.join(dir, 'app', 'file.js'), `'use strict';\n// ${TAG}\n${source}\n`);
}

test('containment is available here (cgroup with a process limit, file-size rlimit)', { skip }, () => {
  const s = containmentSupport();
  // Printed so the report shows what this machine offers.
  console.log(`containment: cgroup=${s.cgroup} pids=${s.pids} kill=${s.kill} memory=${s.memory} prlimit=${s.prlimit} ${s.why.join('; ')}`);
  assert.ok(s.prlimit, 'prlimit (util-linux) is installed');
  assert.ok(s.pids, `a pids controller is usable: ${s.why.join('; ')}`);
});

test('a fork bomb that leaves its process group is held to the process limit and killed', { skip: skip || (!containmentSupport().pids && 'no pids cgroup here') }, async () => {
  const dir = copyLab(LAB!);
  const before = procCount();
  try {
    // setsid-style escape: detached puts the bomb in a new session, out of the app's group.
    hostile(dir, `var cp = require('child_process');
cp.spawn('sh', ['-c', 'b() { b | b & }; b', '${TAG}'], { detached: true, stdio: 'ignore' }).unref();
setTimeout(function () { console.log('bye'); process.exit(0); }, 2500);`);
    const run = await check(dir);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.result.passed, false);
    const limits = run.result.steps.find((s: any) => s.id === 'limits');
    assert.ok(limits, `a limits step: ${JSON.stringify(run.result).slice(0, 600)}`);
    assert.match(limits.message, new RegExp(`more than ${APP_PIDS_MAX} processes`));
    await assertClean(dir, run);
    // The machine is fine: no hundreds of processes left over.
    assert.ok(procCount() < before + 50, `process count back to normal (${before} before, ${procCount()} after)`);
    console.log(`fork bomb: contained in ${run.ms} ms; ${limits.message}`);
  } finally {
    rmCopy(dir);
  }
});

test('an output flood is capped: the result stays small and says why', { skip }, async () => {
  const dir = copyLab(LAB!);
  try {
    // 512 MB to stdout as fast as the pipe takes it, then exit.
    hostile(dir, `var line = new Array(1025).join('${TAG.slice(0, 1)}') + '\\n'; var block = new Array(1025).join(line);
for (var i = 0; i < 512; i++) process.stdout.write(block);`);
    const run = await check(dir);
    assert.equal(run.code, 1, run.stderr);
    const json = JSON.stringify(run.result);
    assert.ok(json.length < 64 * 1024, `the result is ${json.length} bytes`);
    assert.match(run.result.steps[0].message, /printed more than \d+ KB/);
    await assertClean(dir, run);
    console.log(`output flood: ${run.ms} ms, result ${json.length} bytes`);
  } finally {
    rmCopy(dir);
  }
});

test('a 10 GB file write stops at the file-size limit, the check says so', { skip }, async () => {
  const dir = copyLab(LAB!);
  const big = path.join(dir, 'app', 'big.bin');
  try {
    hostile(dir, `var fs = require('fs'); var b = Buffer.alloc(1 << 20, 120); var fd = fs.openSync('big.bin', 'w');
for (var i = 0; i < 10240; i++) fs.writeSync(fd, b);`);
    const run = await check(dir);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.result.passed, false);
    const size = fs.statSync(big).size;
    assert.ok(size <= APP_MAX_FILE_BYTES, `big.bin is ${size} bytes`);
    const limits = run.result.steps.find((s: any) => s.id === 'limits');
    assert.ok(limits, JSON.stringify(run.result).slice(0, 600));
    assert.match(limits.message, /bigger than 256 MB/);
    assert.match(run.result.steps[0].evidence, /EFBIG/);
    await assertClean(dir, run);
    console.log(`10 GB write: stopped at ${size} bytes in ${run.ms} ms`);
  } finally {
    rmCopy(dir);
  }
});

test('many files under the size limit add up: the disk budget stops the app', { skip }, async () => {
  const dir = copyLab(LAB!);
  try {
    // 64 MB files without end, each well under the per-file limit; the budget here is 200 MB.
    hostile(dir, `var fs = require('fs'); var b = Buffer.alloc(64 << 20, 120); var n = 0;
fs.mkdirSync('fill'); for (;;) fs.writeFileSync('fill/f' + (n++), b);`);
    const run = await check(dir, { TRACELAB_LIMIT_DISK_MB: '200' });
    assert.equal(run.code, 1, run.stderr);
    const limits = run.result.steps.find((s: any) => s.id === 'limits');
    assert.ok(limits, JSON.stringify(run.result).slice(0, 600));
    assert.match(limits.message, /wrote more than 200 MB/);
    const written = fs.readdirSync(path.join(dir, 'app', 'fill')).length * 64;
    // Polled every 200 ms: it stops within a few files of the budget, not at the 10 s app timeout.
    assert.ok(written < 200 + 64 * 20, `${written} MB written`);
    await assertClean(dir, run);
    console.log(`disk budget: stopped after ${written} MB in ${run.ms} ms`);
  } finally {
    rmCopy(dir);
  }
});

test('an app that never exits, ignores SIGTERM, floods output and leaves a daemon: stopped, all of it', { skip }, async () => {
  const dir = copyLab(LAB!);
  try {
    hostile(dir, `process.on('SIGTERM', function () {});
var cp = require('child_process');
cp.spawn('sh', ['-c', 'trap "" TERM HUP; while :; do sleep 1; done', '${TAG}'], { detached: true, stdio: 'ignore' }).unref();
setInterval(function () { process.stdout.write(new Array(4097).join('y')); }, 1);`);
    const run = await check(dir);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.result.steps[0].message, /did not finish within \d+ s; it was stopped/);
    const limits = run.result.steps.find((s: any) => s.id === 'limits');
    assert.ok(limits, JSON.stringify(run.result).slice(0, 600));
    assert.match(limits.message, /left \d+ process\(es\) running/);
    await assertClean(dir, run);
    console.log(`never exits: failed in ${run.ms} ms`);
  } finally {
    rmCopy(dir);
  }
});

test('a checker SIGKILLed mid-check (a portal timeout) leaves a cgroup the next check sweeps', { skip: skip || (!containmentSupport().pids && 'no pids cgroup here') }, async () => {
  const dir = copyLab(LAB!);
  try {
    hostile(dir, `var cp = require('child_process');
cp.spawn('sh', ['-c', 'trap "" TERM HUP; while :; do sleep 1; done', '${TAG}'], { detached: true, stdio: 'ignore' }).unref();
setInterval(function () {}, 1000);`);
    const p = spawn(process.execPath, [CLI, 'check', '1', '--json', '--dir', dir], { stdio: 'ignore', detached: true });
    // Wait until the daemon runs, then kill the checker the way a portal timeout does.
    for (let i = 0; i < 300 && !tagged().some((t) => t.includes('while')); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(tagged().length > 0, 'the daemon started');
    process.kill(-p.pid!, 'SIGKILL');
    await new Promise((r) => p.once('close', r));
    assert.ok(tagged().length > 0, 'the daemon outlived its checker (it left the group)');
    const leaves = leftoverLeaves(p.pid!);
    assert.ok(leaves.length > 0, 'and sits in the dead checker\'s cgroup');
    // The tracer the dead checker started is orphaned in its -ctl leaf.
    const orphans = [...new Set(leaves.flatMap((l) => fs.readFileSync(path.join(l, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)))];
    const cmd = (pid: number) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        return '';
      }
    };
    assert.ok(orphans.some((pid) => /bpftrace/.test(cmd(pid))), `an orphaned bpftrace among ${orphans.map(cmd).join(' | ')}`);
    // The next check (of anything) sweeps it.
    fs.writeFileSync(path.join(dir, 'app', 'file.js'), 'syntax error here(\n');
    const run = await check(dir);
    assert.equal(run.code, 1);
    assert.match(run.result.steps[0].message, /does not run/);
    await assertClean(dir, run);
    assert.deepEqual(leftoverLeaves(p.pid!), []);
    const alive = orphans.filter((pid) => cmd(pid) !== '' && !/^\S+ \S+ Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/\(.*\)/, 'x')));
    assert.deepEqual(alive.map(cmd), [], 'the orphaned tracer and app were killed');
  } finally {
    rmCopy(dir);
  }
});

test('the student-code rule covers the ways checkers start apps, and exempts the tracers', async () => {
  const { isStudentCode } = await import('../../src/check/proc');
  const dir = '/ws/01-bug-hunt';
  // A shell that waits, then execs node (lab 0, lab 1), cwd in the app dir.
  assert.equal(isStudentCode('/bin/sh', ['-c', 'exec "$2" file.js', 'sh', '/tmp/go', process.execPath], `${dir}/app`, dir), true);
  assert.equal(isStudentCode(process.execPath, ['demo.js'], `${dir}/app`, dir), true);
  // node with flags and a script in the dir, from a scratch cwd (labs 3, 4, 5).
  assert.equal(isStudentCode(process.execPath, ['--perf-basic-prof', '-r', '/opt/preload.js', `${dir}/app/report.js`, '--loop'], '/tmp/scratch', dir), true);
  // Tracers and tools stay the checker's own, even pointed at the dir.
  assert.equal(isStudentCode('bpftrace', ['-o', `${dir}/out/s.txt`, '/opt/x.bt'], `${dir}/app`, dir), false);
  assert.equal(isStudentCode('/usr/bin/gcore', ['-o', '/tmp/core', '123'], undefined, dir), false);
  assert.equal(isStudentCode(process.execPath, ['/opt/tracelab/labs/01-bug-hunt/linux/stackfold.js'], '/tmp/scratch', dir), false);
  // A sibling whose name starts the same is not inside.
  assert.equal(isStudentCode(process.execPath, ['/ws/01-bug-hunt-other/x.js'], '/tmp', dir), false);
});
