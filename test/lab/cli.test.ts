/**
 * `tracelab check` and `tracelab answer` as a student (or the portal) runs them:
 * usage errors, unknown labs, the --json shape, and apps that hang or do not parse
 * failing clearly without leaving a process behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { checkedLabs, copyLab, rmCopy, tracelab, processesUsing, CLI } from './helpers';
import { formatResult, PASSED_EVIDENCE_LINES } from '../../src/cli/check';

// Lab 1's app is the smallest to break on purpose; skip if it is not here.
const LAB = checkedLabs().find((id) => id === '01-bug-hunt');

test('check: usage errors exit 2 with a message', () => {
  let r = tracelab(['check']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /which lab/);
  r = tracelab(['check', 'no-such-lab', '--dir', '/tmp']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown lab 'no-such-lab' \(labs: /);
  r = tracelab(['check', '01', '--track', 'windows', '--dir', '/tmp']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--track must be linux or illumos/);
  r = tracelab(['check', '01', '--frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--frobnicate'/);
  r = tracelab(['check', '01'], { env: { TRACELAB_WORKSPACE: '' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /pass --dir/);
  r = tracelab(['check', '01', '--dir', '/nonexistent/dir']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no lab directory at \/nonexistent\/dir/);
  r = tracelab(['check', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /usage: tracelab check <lab>/);
});

test('formatResult: evidence under every step, a passed step\'s cut to its first lines', () => {
  const long = Array.from({ length: 9 }, (_, i) => `line ${i + 1}`).join('\n');
  const out = formatResult({
    lab: '00-warm-up',
    track: 'linux',
    passed: false,
    durationMs: 1234,
    steps: [
      { id: 'a', passed: true, message: 'right', evidence: long },
      { id: 'b', passed: true, message: 'right too', evidence: 'one line\n' },
      { id: 'c', passed: true, message: 'no evidence' },
      { id: 'd', passed: false, message: 'wrong', evidence: long },
    ],
  });
  const cut = Array.from({ length: PASSED_EVIDENCE_LINES }, (_, i) => `    │ line ${i + 1}`).join('\n');
  const all = long.replace(/^/gm, '    │ ');
  assert.equal(
    out,
    [
      '✔ a: right',
      cut,
      `    │ … ${9 - PASSED_EVIDENCE_LINES} more lines (--json shows all)`,
      '✔ b: right too',
      '    │ one line',
      '✔ c: no evidence',
      '✘ d: wrong',
      all,
      '',
      '00-warm-up: NOT YET (1.2 s, linux track)',
    ].join('\n'),
  );
});

test('check --track illumos on Linux exits 3 and says where it runs', { skip: !LAB && 'lab 01 missing' }, () => {
  const dir = copyLab(LAB!);
  try {
    const r = tracelab(['check', '1', '--track', 'illumos', '--dir', dir]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /illumos/);
    assert.match(r.stderr, /fix: /);
  } finally {
    rmCopy(dir);
  }
});

test('check as a user who cannot trace exits 3 and names the fix', { skip: (!LAB && 'lab 01 missing') || (!fs.existsSync('/usr/bin/setpriv') && 'no setpriv') }, () => {
  const dir = copyLab(LAB!);
  try {
    // The copy must be readable by nobody, so the check gets as far as the preflight.
    fs.chmodSync(path.dirname(dir), 0o755);
    const r = spawnSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'check', '01', '--dir', dir], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 3, r.stderr + r.stdout);
    assert.match(r.stderr, /tracing needs root/);
    assert.match(r.stderr, /fix: run the check as root/);
    assert.equal(r.stdout, '');
  } finally {
    rmCopy(dir);
  }
});

test('check --json prints only the CheckResult; lab ids resolve from 1, 01, slug', { skip: !LAB && 'lab 01 missing' }, () => {
  const dir = copyLab(LAB!);
  try {
    const r = tracelab(['check', 'bug-hunt', '--json', '--dir', dir]);
    assert.equal(r.code, 1, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.lab, '01-bug-hunt');
    assert.equal(res.track, 'linux');
    assert.equal(res.passed, false);
    assert.equal(typeof res.durationMs, 'number');
    assert.deepEqual(res.steps.map((s: { id: string }) => s.id), ['probes', 'fix']);
    for (const s of res.steps) {
      assert.equal(typeof s.passed, 'boolean');
      assert.equal(typeof s.message, 'string');
    }
    // Human output: one ✔/✘ line per step, the failure's evidence whole and the
    // passed step's evidence cut to its first lines.
    const h = tracelab(['check', '1', '--dir', dir]);
    assert.equal(h.code, 1);
    const [probes, fix] = h.stdout.split(/^(?=[✔✘] )/m);
    assert.match(probes, /^✔ probes: /);
    const probesEvidence = probes.split('\n').filter((l) => l.startsWith('    │ '));
    assert.equal(probesEvidence.length, PASSED_EVIDENCE_LINES + 1, probes);
    assert.match(probesEvidence[0], /│ \d+\s+\d+\s+rimraf/);
    assert.match(probesEvidence[PASSED_EVIDENCE_LINES], /│ … \d+ more lines \(--json shows all\)$/);
    assert.match(fix, /^✘ fix: chksum fired/);
    assert.match(fix, /│ .*srcstream/);
    assert.match(fix, /│ tmp\/words\.save has \d+ of \d+ bytes/);
  } finally {
    rmCopy(dir);
  }
});

test('an app that hangs fails clearly and leaves no process', { skip: !LAB && 'lab 01 missing' }, () => {
  const dir = copyLab(LAB!);
  try {
    fs.writeFileSync(path.join(dir, 'app', 'file.js'), "require('dtrace-provider');\nsetInterval(function () {}, 1000);\n");
    const r = tracelab(['check', '01', '--json', '--dir', dir]);
    assert.equal(r.code, 1, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.match(res.steps[1].message, /did not finish within \d+ s; it was stopped/);
    assert.deepEqual(processesUsing(dir), []);
  } finally {
    rmCopy(dir);
  }
});

test('an app that does not parse fails with the syntax error', { skip: !LAB && 'lab 01 missing' }, () => {
  const dir = copyLab(LAB!);
  try {
    fs.writeFileSync(path.join(dir, 'app', 'file.js'), 'function copyFile(from, to {\n');
    const r = tracelab(['check', '01', '--json', '--dir', dir]);
    assert.equal(r.code, 1, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.match(res.steps[1].message, /app\/file\.js does not run: SyntaxError: .* \(file\.js:1\)/);
    assert.match(res.steps[1].evidence, /SyntaxError/);
    assert.deepEqual(processesUsing(dir), []);
  } finally {
    rmCopy(dir);
  }
});

test('a fix that removes the probes fails and says why', { skip: !LAB && 'lab 01 missing' }, () => {
  const dir = copyLab(LAB!);
  try {
    const f = path.join(dir, 'app', 'file.js');
    // The copy is made correctly (no hashing at all) but the probes are gone.
    fs.writeFileSync(f, "var fs = require('fs');\nfs.mkdirSync('tmp', { recursive: true });\nfs.copyFileSync('words', 'tmp/words.save');\n");
    const r = tracelab(['check', '01', '--json', '--dir', dir]);
    assert.equal(r.code, 1, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.match(res.steps[1].message, /shows no rimraf, srcstream, chksum probe/);
  } finally {
    rmCopy(dir);
  }
});

test('answer: stores answers atomically, refuses unknown steps and steps without a question', () => {
  const withQ = checkedLabs().find((id) => {
    const lab = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'labs', id, 'lab.json'), 'utf8'));
    return lab.steps.some((s: { question?: string }) => s.question);
  });
  let r = tracelab(['answer']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /expected <lab> <step> <value>/);
  if (!LAB) return;
  const dir = copyLab(LAB);
  try {
    r = tracelab(['answer', '01', 'no-such-step', 'x', '--dir', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /has no step 'no-such-step'/);
    r = tracelab(['answer', '01', 'fix', 'x', '--dir', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /asks no question/);
  } finally {
    rmCopy(dir);
  }
  if (!withQ) return;
  const lab = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'labs', withQ, 'lab.json'), 'utf8'));
  const q = lab.steps.filter((s: { question?: string }) => s.question);
  const d2 = copyLab(withQ);
  try {
    r = tracelab(['answer', withQ, q[0].id, '  first answer ', '--dir', d2]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /stored "first answer"/);
    if (q[1]) {
      r = tracelab(['answer', withQ, q[1].id, 'second', '--dir', d2]);
      assert.equal(r.code, 0, r.stderr);
    }
    const stored = JSON.parse(fs.readFileSync(path.join(d2, '.tracelab', 'answers.json'), 'utf8'));
    assert.equal(stored[q[0].id], 'first answer');
    if (q[1]) assert.equal(stored[q[1].id], 'second');
    assert.deepEqual(fs.readdirSync(path.join(d2, '.tracelab')), ['answers.json'], 'no temp files left');
    r = tracelab(['answer', withQ, q[0].id, 'x'.repeat(500), '--dir', d2]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /longer than/);
  } finally {
    rmCopy(d2);
  }
});
