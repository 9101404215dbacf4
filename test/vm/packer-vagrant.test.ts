// The lab image's definitions, validated offline: Debian's packer 1.6.6 and
// vagrant 2.3.4 check syntax, variables, builder options and that every script
// and uploaded path exists. Nothing here boots a VM (this machine has no
// hardware virtualisation); vm/README.md says what was and was not run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const VM = path.join(ROOT, 'vm');

function run(cmd: string, args: string[], env: Record<string, string> = {}, cwd = VM) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  if (r.error) throw new Error(`${cmd} could not run (${r.error.message}): ./setup.sh test installs it`);
  return { code: r.status, out: (r.stdout || '') + (r.stderr || '') };
}

function pinned(): Record<string, string> {
  const text = fs.readFileSync(path.join(VM, 'packer', 'versions.auto.pkrvars.hcl'), 'utf8');
  return Object.fromEntries([...text.matchAll(/^\s*([a-z0-9_]+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1], m[2]]));
}

test('the pinned inputs: checksums are full sha256, Node is 6.17.1 for sunos-x64, mdb_v8 is a commit', () => {
  const v = pinned();
  assert.match(v.omnios_iso_checksum, /^sha256:[0-9a-f]{64}$/);
  assert.match(v.omnios_iso_url, /r151054/);
  assert.equal(v.node6_version, '6.17.1');
  assert.match(v.node6_url, /node-v6\.17\.1-sunos-x64\.tar\.xz$/);
  assert.match(v.node6_sha256, /^[0-9a-f]{64}$/);
  assert.match(v.mdb_v8_commit, /^[0-9a-f]{40}$/);
  assert.equal(v.dtrace_provider_version, '0.8.8');
});

test('packer validate accepts vm/packer (both builders, all provisioners)', () => {
  assert.ok(fs.existsSync(path.join(ROOT, 'dist')), 'run `npm run build` first: the image uploads dist/');
  const r = run('packer', ['validate', '.'], { CHECKPOINT_DISABLE: '1' }, path.join(VM, 'packer'));
  assert.equal(r.code, 0, r.out);
});

test('packer validate rejects the template without its pinned checksum (the check has teeth)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-packer-'));
  try {
    for (const f of fs.readdirSync(path.join(VM, 'packer'))) {
      if (f.endsWith('.pkr.hcl')) fs.copyFileSync(path.join(VM, 'packer', f), path.join(tmp, f));
    }
    // no versions.auto.pkrvars.hcl: every pinned variable is unset
    const r = run('packer', ['validate', '.'], { CHECKPOINT_DISABLE: '1' }, tmp);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /omnios_iso_checksum|node6_sha256|Unset variable/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('vagrant validate: single box, a class of N, a roster; bad input is refused with a message', () => {
  const dot = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-vagrant-'));
  const roster = path.join(dot, 'roster.txt');
  fs.writeFileSync(roster, '# name, email\nAda Lovelace, ada@example.org\nGrace Hopper\n');
  const base = { VAGRANT_DOTFILE_PATH: path.join(dot, '.vagrant'), VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_DEFAULT_PROVIDER: 'libvirt' };
  try {
    const modes: Record<string, string>[] = [{}, { TRACELAB_STUDENTS: '3' }, { TRACELAB_ROSTER: roster }, { TRACELAB_PROVISION: '1' }];
    for (const env of modes) {
      const r = run('vagrant', ['validate'], { ...base, ...env });
      assert.equal(r.code, 0, `${JSON.stringify(env)}: ${r.out}`);
      assert.match(r.out, /validated successfully/);
    }
    const bad = run('vagrant', ['validate'], { ...base, TRACELAB_STUDENTS: 'lots' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.out, /TRACELAB_STUDENTS must be a number/);
    fs.writeFileSync(roster, 'Ada Lovelace\nada  lovelace\n');
    const dup = run('vagrant', ['validate'], { ...base, TRACELAB_ROSTER: roster });
    assert.notEqual(dup.code, 0);
    assert.match(dup.out, /student-ada-lovelace/);
  } finally {
    fs.rmSync(dot, { recursive: true, force: true });
  }
  assert.ok(!fs.existsSync(path.join(VM, '.vagrant')), 'validation left vm/.vagrant behind');
});
