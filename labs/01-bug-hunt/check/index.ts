/**
 * Lab 1 checker: runs the lab's own linux/file_probes.bt while the student's
 * app/file.js copies `words`, then judges the trace and the copy.
 *
 *  probes  rimraf, srcstream and chksum all fire (the student can see the bug)
 *  fix     srcstream fires before the first chksum (nothing is hashed before the
 *          pipe exists) AND tmp/words.save has the size and md5 of words.
 *
 * Judged on behaviour, not text: any fix that pipes before hashing passes; removing
 * the probes, firing srcstream early or padding the copy fails with the reason.
 */
import * as path from 'path';
import * as fs from 'fs';
import type { LabChecker, StepResult } from '../../../src/check/types';
import { requireTracing, spawnGroup, delay, tail } from '../../../src/check/proc';
import { startBpftrace, excerpt } from '../../../src/check/bpftrace';
import { checkIllumos } from './illumos';
import { prepareWords } from './words';
import { appEnv, usdtAddon, requireLabModules, syntaxError, requireLinuxTrack, fileDigest, remaining, exitedWithin } from '../../../src/check/labenv';

const APP_TIMEOUT_MS = 10000;
const APP_OUTPUT_CAP = 64 * 1024;

interface ProbeLine {
  us: number;
  probe: string;
  chunk?: number;
  line: string;
}

/** Lines of file_probes.bt for one pid, in time order (per-CPU buffers may interleave). */
export function parseProbes(out: string, pid: number): ProbeLine[] {
  const lines: ProbeLine[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\d+)\s+(\d+)\s+(rimraf|srcstream|chksum)(\s.*)?$/.exec(line);
    if (!m || Number(m[2]) !== pid) continue;
    const n = /\s(\d+)\s*$/.exec(m[4] ?? '');
    lines.push({ us: Number(m[1]), probe: m[3], chunk: m[3] === 'chksum' && n ? Number(n[1]) : undefined, line });
  }
  return lines.sort((a, b) => a.us - b.us);
}

export const check: LabChecker = async (ctx) => {
  if (ctx.track === 'illumos') return checkIllumos(ctx);
  requireLinuxTrack(ctx.track);
  await requireTracing(['bpftrace']);
  requireLabModules(['dtrace-provider']);
  const addon = usdtAddon();
  const appDir = path.join(ctx.dir, 'app');
  const both = (passed: boolean, message: string, evidence?: string): StepResult[] => [
    { id: 'probes', passed, message, evidence },
    { id: 'fix', passed, message, evidence },
  ];

  const bad = await syntaxError(path.join(appDir, 'file.js'));
  if (bad) return { passed: false, steps: both(false, `app/file.js does not run: ${bad.split('\n')[0]}`, bad) };

  const src = await prepareWords(ctx, process.execPath, appDir);

  // The app's pid must be known before it fires its first probe (another
  // student's file.js may fire fileapp probes too): start a shell that waits
  // for a go-file and then execs node, keeping its pid.
  const go = path.join(ctx.scratch, 'go');
  const app = spawnGroup('/bin/sh', ['-c', 'while [ ! -e "$1" ]; do sleep 0.02; done; exec "$2" file.js', 'sh', go, process.execPath], {
    cwd: appDir,
    env: appEnv(),
    maxOutputBytes: APP_OUTPUT_CAP,
  });
  ctx.log('starting linux/file_probes.bt');
  const tracer = await startBpftrace(path.join(ctx.labSource, 'linux', 'file_probes.bt'), [addon, String(app.pid)], {
    timeoutMs: remaining(ctx.deadline),
  }).catch(async (e) => {
    await app.stop();
    throw e;
  });
  ctx.log('running node file.js');
  fs.writeFileSync(go, '');
  const ended = await exitedWithin(app, Math.min(APP_TIMEOUT_MS, remaining(ctx.deadline)));
  const appOut = app.output();
  if (!ended) {
    await app.stop();
    const trace = await tracer.stop();
    return {
      passed: false,
      steps: both(false, `node file.js did not finish within ${APP_TIMEOUT_MS / 1000} s; it was stopped. Does it wait for something that never happens?`, excerpt(appOut + '\n' + trace, 20)),
    };
  }
  // The script exits by itself when the app does; give it a moment to print that.
  const until = Date.now() + 2000;
  while (Date.now() < until && !new RegExp(`^\\d+\\s+${app.pid}\\s+exited`, 'm').test(tracer.output())) await delay(50);
  const trace = await tracer.stop();

  if (appOut.length >= APP_OUTPUT_CAP) {
    return { passed: false, steps: both(false, `node file.js printed more than ${APP_OUTPUT_CAP / 1024} KB; it should print one md5 line`, excerpt(appOut, 10)) };
  }
  if (ended.code !== 0) {
    return {
      passed: false,
      steps: both(false, `node file.js failed (${ended.signal ?? 'exit code ' + ended.code}): ${tail(appOut, 1)}`, tail(appOut, 15)),
    };
  }

  const probes = parseProbes(trace, app.pid);
  const fired = (p: string) => probes.filter((l) => l.probe === p).length;
  const missing = ['rimraf', 'srcstream', 'chksum'].filter((p) => fired(p) === 0);
  // Evidence: the trace up to a few lines past the first srcstream (where the story is).
  const pipeAt = probes.findIndex((l) => l.probe === 'srcstream');
  const shown = probes.slice(0, pipeAt >= 0 ? Math.min(probes.length, pipeAt + 4) : 12).map((l) => l.line);
  if (shown.length < probes.length) shown.push(`... ${probes.length - shown.length} more probe lines`);
  const traceEvidence = excerpt(shown.join('\n') || trace, 24);
  const steps: StepResult[] = [];
  if (missing.length) {
    const msg = `the trace shows no ${missing.join(', ')} probe from file.js: keep the dtp.fire() calls (and dtp.enable()); the fix is judged by them`;
    return { passed: false, steps: both(false, msg, traceEvidence) };
  }
  steps.push({
    id: 'probes',
    passed: true,
    message: `file_probes.bt saw rimraf, srcstream and ${fired('chksum')} chksum probes`,
    evidence: traceEvidence,
  });

  const copy = fileDigest(path.join(appDir, 'tmp', 'words.save'));
  const firstPipe = probes.findIndex((l) => l.probe === 'srcstream');
  const early = probes.slice(0, firstPipe).filter((l) => l.probe === 'chksum').length;
  const sizes = copy
    ? `tmp/words.save has ${copy.size} of ${src.size} bytes${copy.md5 === src.md5 ? ', same md5' : `, md5 ${copy.md5} (words: ${src.md5})`}`
    : 'tmp/words.save does not exist';
  const printed = /md5sum = ([0-9a-f]{32})/.exec(appOut);
  const evidence = `${traceEvidence}\n\n${sizes}\nfile.js printed: ${tail(appOut, 2)}`;
  if (early > 0) {
    steps.push({
      id: 'fix',
      passed: false,
      message: `chksum fired ${early} time(s) before srcstream: hashing started before the pipe, so those chunks never reached the copy (${sizes})`,
      evidence,
    });
  } else if (!copy || copy.size !== src.size || copy.md5 !== src.md5) {
    steps.push({
      id: 'fix',
      passed: false,
      message: `srcstream fired before the first chksum, but the copy is still wrong: ${sizes}. The copy must be exactly words`,
      evidence,
    });
  } else if (!printed || printed[1] !== src.md5) {
    steps.push({
      id: 'fix',
      passed: false,
      message: `the copy is right, but file.js printed ${printed ? 'md5 ' + printed[1] : 'no md5 line'} while words has md5 ${src.md5}`,
      evidence,
    });
  } else {
    steps.push({
      id: 'fix',
      passed: true,
      message: `srcstream fired before the first chksum and ${sizes}`,
      evidence,
    });
  }
  return { passed: steps.every((s) => s.passed), steps };
};
