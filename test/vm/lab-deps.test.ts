// The box's lab dependencies (vm/scripts/60-lab-deps.sh), checked offline: the
// script writes its own labs/package.json before a bare `npm install`, because
// the Linux track's labs/package.json lists llnode, whose preinstall exits 1 on
// SunOS (and npm installs everything a package.json lists, whatever the
// command line names). The package.json here is the one the script's shell
// writes: its heredoc is run by sh with the pinned versions, not re-parsed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { builtinModules } from 'module';
import { spawnSync } from 'child_process';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SCRIPT = path.join(ROOT, 'vm', 'scripts', '60-lab-deps.sh');

function pinned(): Record<string, string> {
  const text = fs.readFileSync(path.join(ROOT, 'vm', 'packer', 'versions.auto.pkrvars.hcl'), 'utf8');
  return Object.fromEntries([...text.matchAll(/^\s*([a-z0-9_]+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1], m[2]]));
}

/** The script's lines without comments and with `\`-continuations joined. */
function commands(script: string): string[] {
  return script.replace(/\\\n\s*/g, ' ').split('\n').filter((l) => !/^\s*#/.test(l));
}

/** Runs the script's `cat >package.json <<JSON ... JSON` block with sh, in a temp dir. */
function boxPackageJson(script: string): { deps: Record<string, string>; json: any } {
  const m = script.match(/^cat >package\.json <<JSON\n[\s\S]*?^JSON$/m);
  assert.ok(m, '60-lab-deps.sh writes no package.json of its own (cat >package.json <<JSON ... JSON)');
  const v = pinned();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-labdeps-'));
  try {
    const r = spawnSync('sh', ['-eu', '-c', m[0]], {
      cwd: tmp,
      encoding: 'utf8',
      env: { PATH: process.env.PATH || '/usr/bin:/bin', RESTIFY_VERSION: v.restify_version, DTRACE_PROVIDER_VERSION: v.dtrace_provider_version, STACKVIS_VERSION: v.stackvis_version, NODE6_VERSION: v.node6_version },
    });
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(fs.readFileSync(path.join(tmp, 'package.json'), 'utf8'));
    return { deps: { ...json.dependencies, ...json.optionalDependencies, ...json.devDependencies, ...json.peerDependencies }, json };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Modules the lab apps require (labs/<NN>/ and solutions/<NN>/ JavaScript, checkers and node_modules aside). */
function labAppRequires(): Set<string> {
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'check' ? [] : walk(p);
      return /\.(js|cjs)$/.test(e.name) ? [p] : [];
    });
  const mods = new Set<string>();
  for (const base of ['labs', 'solutions']) {
    for (const e of fs.readdirSync(path.join(ROOT, base), { withFileTypes: true })) {
      if (!e.isDirectory() || !/^[0-9]{2}-/.test(e.name)) continue;
      for (const f of walk(path.join(ROOT, base, e.name))) {
        for (const m of fs.readFileSync(f, 'utf8').matchAll(/require\(\s*['"]([^'"./][^'"]*)['"]\s*\)/g)) {
          const name = m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0];
          if (!builtinModules.includes(name.replace(/^node:/, ''))) mods.add(name);
        }
      }
    }
  }
  return mods;
}

test("the box's labs/package.json has no llnode: restify and dtrace-provider at the pinned versions only", () => {
  const v = pinned();
  const { deps, json } = boxPackageJson(fs.readFileSync(SCRIPT, 'utf8'));
  assert.ok(!('llnode' in deps), `llnode is a dependency on the box: ${JSON.stringify(deps)}`);
  assert.deepEqual(deps, { 'dtrace-provider': v.dtrace_provider_version, restify: v.restify_version });
  assert.equal(json.type, 'commonjs');
});

test("the box's dependencies cover every package the lab apps and solutions require", () => {
  const { deps } = boxPackageJson(fs.readFileSync(SCRIPT, 'utf8'));
  const needed = labAppRequires();
  assert.ok(needed.has('restify') && needed.has('dtrace-provider'), `found ${[...needed]}`);
  for (const m of needed) assert.ok(m in deps, `${m} is required by a lab app but not installed on the box`);
});

test('60-lab-deps.sh writes that package.json in the labs copy, then runs a bare npm install there', () => {
  const lines = commands(fs.readFileSync(SCRIPT, 'utf8'));
  const cd = lines.findIndex((l) => /^cd "\$labs"$/.test(l.trim()));
  const write = lines.findIndex((l) => /^cat >package\.json <<JSON$/.test(l.trim()));
  const installs = lines.map((l, i) => [l, i] as const).filter(([l]) => /"\$npm" install\b/.test(l));
  assert.ok(cd >= 0 && write > cd, 'package.json is written after cd "$labs"');
  assert.equal(installs.length, 1, installs.map(([l]) => l).join('\n'));
  const [line, at] = installs[0];
  assert.ok(at > write, 'npm install runs after package.json is written');
  assert.ok(!lines.slice(cd + 1, at).some((l) => /^\s*cd\b/.test(l)), 'no cd between writing package.json and installing');
  // Only options after `install`: a package named there would be added to the
  // package.json (npm saves by default), so the box's deps would be two lists.
  const args = line.slice(line.indexOf('"$npm" install') + '"$npm" install'.length).trim().split(/\s+/).filter(Boolean);
  assert.deepEqual(args.filter((a) => !a.startsWith('--')), [], `npm install names packages: ${line}`);
});

test('the check has teeth: the old script (npm install over the Linux package.json) is refused', () => {
  const old = fs.readFileSync(SCRIPT, 'utf8').replace(/^cat >package\.json <<JSON\n[\s\S]*?^JSON$\n/m, '');
  assert.throws(() => boxPackageJson(old), /writes no package\.json of its own/);
  // and a box package.json that kept llnode fails the first test's assertion
  const withLlnode = fs.readFileSync(SCRIPT, 'utf8').replace('"dependencies": {', '"dependencies": {\n    "llnode": "^4.0.0",');
  assert.ok('llnode' in boxPackageJson(withLlnode).deps);
});
