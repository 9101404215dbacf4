/**
 * `tracelab doctor` on this machine for real: set up by ./setup.sh, everything it
 * probes must work (bpftrace runs a program, the USDT probe is listed, lldb loads
 * llnode); with the tools off PATH, or as a user who cannot trace, it says what is
 * missing and how to fix it, and exits 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { tracelab, CLI } from './helpers';

interface Report {
  ok: boolean;
  findings: { name: string; ok: boolean; detail: string; fix?: string }[];
}

test('doctor: on the set-up machine every probe passes', () => {
  const r = tracelab(['doctor', '--json']);
  const rep = JSON.parse(r.stdout) as Report;
  const bad = rep.findings.filter((f) => !f.ok);
  assert.deepEqual(bad, [], 'not ready');
  assert.equal(r.code, 0);
  assert.deepEqual(
    rep.findings.map((f) => f.name),
    ['node', 'root', 'tracefs', 'bpftrace', 'usdt-probe', 'perf', 'post-mortem', 'tmux', 'labs'],
  );
});

test('doctor: tools missing from PATH are named with the package to install', () => {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-doctor-'));
  try {
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const r = tracelab(['doctor'], { env: { PATH: bin } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /✘ bpftrace .*not installed\n\s+fix: apt-get install bpftrace/);
    assert.match(r.stdout, /✘ perf .*\n\s+fix: apt-get install linux-perf/);
    assert.match(r.stdout, /✘ tmux .*\n\s+fix: apt-get install tmux/);
    assert.match(r.stdout, /✔ node /);
    assert.match(r.stdout, /not ready/);
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
});

test('doctor: a user who cannot trace is told to use root', { skip: !fs.existsSync('/usr/bin/setpriv') && 'no setpriv' }, () => {
  const r = spawnSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'doctor', '--json'], { encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 1, r.stderr);
  const rep = JSON.parse(r.stdout) as Report;
  const root = rep.findings.find((f) => f.name === 'root')!;
  assert.equal(root.ok, false);
  assert.match(root.fix ?? '', /sudo/);
  assert.equal(rep.findings.find((f) => f.name === 'bpftrace')!.ok, false);
});

test('doctor: an unknown option is a usage error', () => {
  const r = tracelab(['doctor', '--bogus']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--bogus'/);
});
