// A STATIC check of every labs/<lab>/illumos/*.d (no dtrace on this machine):
// src/check/illumos/dlint.ts, not `dtrace -e`. Scripts are found on disk.
// It also holds them to STYLE.md's header convention (name line, USAGE,
// executable with a dtrace shebang). The image build runs them for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { lintD } from '../../src/check/illumos/dlint';
import { TALK_SYSTEME_D, TALK_SERVER_LATENCY_D, TALK_RWU_D } from './talk-dscripts';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function dScripts(): string[] {
  const labs = path.join(ROOT, 'labs');
  if (!fs.existsSync(labs)) return [];
  return fs
    .readdirSync(labs)
    .filter((d) => /^[0-9]{2}-/.test(d))
    .flatMap((d) => {
      const dir = path.join(labs, d, 'illumos');
      return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.d')).map((f) => path.join(dir, f)) : [];
    })
    .sort();
}

test('static D check finds the talk\'s own mistakes in systeme.d', () => {
  const p = lintD(TALK_SYSTEME_D);
  assert.deepEqual(
    p.map((x) => x.line),
    [5, 11, 14],
    JSON.stringify(p, null, 1),
  );
  assert.match(p[0].message, /"syscall::entry" has 3 fields/);
  assert.match(p[2].message, /"probfunc" is read but never set/);
});

test('static D check: server-latency.d only lacks the module field; rwu.d never says -c', () => {
  const lat = lintD(TALK_SERVER_LATENCY_D);
  assert.deepEqual(lat.map((x) => x.message.replace(/ has 3 fields.*/, '')), ['"node*::http-server-request"', '"node*::http-server-response"']);
  const rwu = lintD(TALK_RWU_D);
  assert.equal(rwu.length, 1, JSON.stringify(rwu));
  assert.match(rwu[0].message, /\$target is used but the header does not say/);
  // The same script with a header that says how to run it is clean.
  assert.deepEqual(lintD(TALK_RWU_D.replace('#pragma', '/* rwu.d  USAGE: rwu.d -c "node file.js" */\n#pragma')), []);
});

test('static D check catches broken structure (constructed inputs)', () => {
  const cases: [string, RegExp][] = [
    ['syscall:::entry\n{\n  printf("x");\n', /never closed/],
    ['syscall:::entry\n/(pid == 1/\n{\n}\n', /unclosed "\(" in predicate/],
    ['syscall:::entry\n{\n  prinft("x");\n}\n', /prinft\(\) is not a D action/],
    ['nosuch:::entry\n{\n}\n', /unknown provider "nosuch"/],
    ['syscall:::entry\n{\n  // hi\n}\n', /no \/\/ comments/],
    ['#pragma D option quite\nBEGIN\n{\n}\n', /unknown D option "quite"/],
    ['BEGIN\n{\n  x = 1\n}\nfoo bar\n{\n}\n', /is not a probe description/],
    ['profile:::tick-1x\n{\n}\n', /not a profile\/tick probe name/],
  ];
  for (const [src, re] of cases) {
    const p = lintD(src);
    assert.ok(p.some((x) => re.test(x.message)), `${JSON.stringify(src)} → ${JSON.stringify(p)}`);
  }
});

test('every lab D script passes the static check and follows the header convention', () => {
  const files = dScripts();
  const problems: string[] = [];
  for (const file of files) {
    const rel = path.relative(ROOT, file);
    const src = fs.readFileSync(file, 'utf8');
    for (const p of lintD(src)) problems.push(`${rel}:${p.line}: ${p.message}`);
    if (!src.startsWith('#!/usr/sbin/dtrace')) problems.push(`${rel}:1: no #!/usr/sbin/dtrace shebang`);
    if ((fs.statSync(file).mode & 0o111) === 0) problems.push(`${rel}: not executable (chmod +x)`);
    const header = (/\/\*[\s\S]*?\*\//.exec(src) || [''])[0];
    const name = path.basename(file);
    if (!new RegExp(`^\\s*\\*\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s{2,}\\S`, 'm').test(header)) {
      problems.push(`${rel}: header does not start with "${name}  <one-line purpose>"`);
    }
    if (!/USAGE/.test(header)) problems.push(`${rel}: header has no USAGE`);
  }
  assert.deepEqual(problems, [], problems.join('\n'));
  console.log(`dscripts: ${files.length} D scripts checked statically`);
});
