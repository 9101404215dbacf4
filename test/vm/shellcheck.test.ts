// shellcheck over every shell script in the repository (found on disk, never
// listed by hand): vm/ provisioning scripts as POSIX sh (OmniOS runs them with
// /bin/sh), the rest by their shebang, plus the Kayak installer config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.vagrant', 'packer_cache']);

function shellFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) || e.name.startsWith('output-') ? [] : shellFiles(p);
    return e.name.endsWith('.sh') ? [p] : [];
  });
}

function shellcheck(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('shellcheck', ['--format=gcc', ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`shellcheck could not run (${r.error.message}): ./setup.sh test installs it`);
  return { ok: r.status === 0, out: r.stdout + r.stderr };
}

test('vm/ provisioning scripts are #!/bin/sh -eux and shellcheck-clean as POSIX sh', () => {
  const files = shellFiles(path.join(ROOT, 'vm'));
  assert.ok(files.length >= 5, `expected the provisioning scripts, found ${files.length}`);
  for (const f of files) {
    assert.equal(fs.readFileSync(f, 'utf8').split('\n')[0], '#!/bin/sh -eux', `${path.relative(ROOT, f)}: first line`);
  }
  const r = shellcheck(['--shell=sh', ...files, path.join(ROOT, 'vm', 'packer', 'http', 'kayak.cfg')]);
  assert.ok(r.ok, r.out);
});

// Outside vm/ the bar is shellcheck's warnings and errors; its info/style notes
// (e.g. SC2015 on `a && b || c`) are printed for their authors, not failed on.
test('every other shell script in the repository has no shellcheck warnings or errors', () => {
  const vm = path.join(ROOT, 'vm') + path.sep;
  const files = shellFiles(ROOT).filter((f) => !f.startsWith(vm));
  for (const extra of ['.ci/run']) if (fs.existsSync(path.join(ROOT, extra))) files.push(path.join(ROOT, extra));
  const r = shellcheck(['--severity=warning', ...files]);
  assert.ok(r.ok, r.out);
  const notes = shellcheck(files);
  console.log(`shellcheck: ${files.length} scripts outside vm/${notes.ok ? '' : '; notes for their authors:\n' + notes.out}`);
});

test('the shellcheck run can fail (self-test on a broken script)', () => {
  const tmp = fs.mkdtempSync(path.join(require('os').tmpdir(), 'tl-sc-'));
  try {
    const f = path.join(tmp, 'bad.sh');
    fs.writeFileSync(f, '#!/bin/sh\nrm -rf $1/*\n');
    assert.equal(shellcheck([f]).ok, false);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
