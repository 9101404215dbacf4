/**
 * Lab 1, illumos track: the lab's own illumos/file_probes.d runs node file.js
 * (`dtrace -Z -c`, as the steps do) and the same judgement as the Linux branch:
 *
 *  probes  rimraf, srcstream and chksum all fire
 *  fix     srcstream fires before the first chksum AND tmp/words.save has the
 *          size and md5 of words, AND file.js printed that md5.
 *
 * Never run against real DTrace here (see vm/README.md); tested with stand-ins.
 */
import * as path from 'path';
import type { LabChecker, StepResult } from '../../../src/check/types';
import { tail } from '../../../src/check/proc';
import { prepareWords } from './words';
import { appEnv, fileDigest, remaining, syntaxError } from '../../../src/check/labenv';
import { runDScript, requireIllumos } from '../../../src/check/illumos/run';
import { node6, firstLines } from '../../../src/check/illumos/lab';

const APP_TIMEOUT_MS = 20000;

export interface ProbeLine {
  probe: string;
  chunk?: number;
  line: string;
}

/** file_probes.d's lines ("chksum     md5sum.update(chunk) 3"), in the order printed (temporal). */
export function parseProbeLines(out: string): ProbeLine[] {
  const lines: ProbeLine[] = [];
  for (const line of out.split('\n')) {
    const m = /^(rimraf|srcstream|chksum)\s+(.*?)\s*$/.exec(line);
    if (!m) continue;
    const n = /\s(\d+)$/.exec(m[2]);
    lines.push({ probe: m[1], chunk: m[1] === 'chksum' && n ? Number(n[1]) : undefined, line: line.trimEnd() });
  }
  return lines;
}

export const checkIllumos: LabChecker = async (ctx) => {
  requireIllumos(['dtrace']);
  const node = node6();
  const appDir = path.join(ctx.dir, 'app');
  const both = (message: string, evidence?: string): StepResult[] => [
    { id: 'probes', passed: false, message, evidence },
    { id: 'fix', passed: false, message, evidence },
  ];
  const bad = await syntaxError(path.join(appDir, 'file.js'));
  if (bad) return { passed: false, steps: both(`app/file.js does not run: ${bad.split('\n')[0]}`, bad) };

  const src = await prepareWords(ctx, node, appDir);

  ctx.log('running illumos/file_probes.d -Z -c "node file.js"');
  const r = await runDScript(
    { script: path.join(ctx.labSource, 'illumos', 'file_probes.d'), command: `${node} file.js`, allowMissing: true },
    { timeoutMs: Math.min(APP_TIMEOUT_MS, remaining(ctx.deadline)), cwd: appDir, env: appEnv() },
  );
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.timedOut) return { passed: false, steps: both(`node file.js did not finish within ${APP_TIMEOUT_MS / 1000} s under dtrace; it was stopped`, firstLines(out, 20)) };
  if (r.code !== 0) return { passed: false, steps: both(`dtrace -c 'node file.js' failed (${r.signal ?? 'exit code ' + r.code}): ${tail(r.stderr, 1)}`, tail(out, 15)) };

  const probes = parseProbeLines(r.stdout);
  const fired = (p: string) => probes.filter((l) => l.probe === p).length;
  const missing = ['rimraf', 'srcstream', 'chksum'].filter((p) => fired(p) === 0);
  const pipeAt = probes.findIndex((l) => l.probe === 'srcstream');
  const shown = probes.slice(0, pipeAt >= 0 ? Math.min(probes.length, pipeAt + 4) : 12).map((l) => l.line);
  if (shown.length < probes.length) shown.push(`... ${probes.length - shown.length} more probe lines`);
  const traceEvidence = shown.join('\n') || firstLines(out, 20);
  if (missing.length) {
    return { passed: false, steps: both(`the trace shows no ${missing.join(', ')} probe from file.js: keep the dtp.fire() calls (and dtp.enable()); the fix is judged by them`, traceEvidence) };
  }
  const steps: StepResult[] = [{ id: 'probes', passed: true, message: `file_probes.d saw rimraf, srcstream and ${fired('chksum')} chksum probes`, evidence: traceEvidence }];

  const copy = fileDigest(path.join(appDir, 'tmp', 'words.save'));
  const early = probes.slice(0, pipeAt).filter((l) => l.probe === 'chksum').length;
  const sizes = copy
    ? `tmp/words.save has ${copy.size} of ${src.size} bytes${copy.md5 === src.md5 ? ', same md5' : `, md5 ${copy.md5} (words: ${src.md5})`}`
    : 'tmp/words.save does not exist';
  const printed = /md5sum = ([0-9a-f]{32})/.exec(r.stdout);
  const evidence = `${traceEvidence}\n\n${sizes}\nfile.js printed: ${printed ? printed[0] : '(no md5 line)'}`;
  if (early > 0) {
    steps.push({ id: 'fix', passed: false, message: `chksum fired ${early} time(s) before srcstream: hashing started before the pipe, so those chunks never reached the copy (${sizes})`, evidence });
  } else if (!copy || copy.size !== src.size || copy.md5 !== src.md5) {
    steps.push({ id: 'fix', passed: false, message: `srcstream fired before the first chksum, but the copy is still wrong: ${sizes}. The copy must be exactly words`, evidence });
  } else if (!printed || printed[1] !== src.md5) {
    steps.push({ id: 'fix', passed: false, message: `the copy is right, but file.js printed ${printed ? 'md5 ' + printed[1] : 'no md5 line'} while words has md5 ${src.md5}`, evidence });
  } else {
    steps.push({ id: 'fix', passed: true, message: `srcstream fired before the first chksum and ${sizes}`, evidence });
  }
  return { passed: steps.every((s) => s.passed), steps };
};
