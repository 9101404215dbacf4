// The ssh and vagrant backends in the registry, and `tracelab serve --host-backend ssh --inventory FILE`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createHost } from '../../portal/hosts';
import { SshHost } from '../../portal/hosts/ssh';
import { VagrantHost } from '../../portal/hosts/vagrant';
import { loadConfig } from '../../src/config';

test('registry: ssh picks the user\'s host from the inventory; vagrant drives vm/', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-registry-'));
  try {
    const inv = path.join(dir, 'inventory');
    fs.writeFileSync(inv, 'Host student-ada\n  HostName 10.0.0.5\nHost student-bob\n  HostName 10.0.0.6\n');
    const h = createHost('ssh', { user: 'bob', dataDir: dir, labsDir: dir, extra: { inventory: inv, track: 'illumos' } });
    assert.ok(h instanceof SshHost);
    assert.equal((h as SshHost).host, 'student-bob');
    assert.equal(h.track, 'illumos');
    assert.throws(() => createHost('ssh', { user: 'eve', dataDir: dir, labsDir: dir, extra: { inventory: inv } }), /no host for user 'eve'/);
    const v = createHost('vagrant', { user: 'ada', dataDir: dir, labsDir: dir });
    assert.ok(v instanceof VagrantHost);
    assert.equal(v.track, 'illumos');
    assert.equal((v as VagrantHost).machine, 'lab');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('serve config: --host-backend ssh needs an existing --inventory', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-registry-'));
  try {
    const env = { TRACELAB_DATA: path.join(dir, 'data') };
    assert.throws(() => loadConfig({ argv: ['--host-backend', 'ssh'], env }), /needs --inventory FILE/);
    assert.throws(() => loadConfig({ argv: ['--host-backend', 'ssh', '--inventory', path.join(dir, 'nope')], env }), /does not exist/);
    fs.writeFileSync(path.join(dir, 'inv'), 'Host lab\n');
    const c = loadConfig({ argv: ['--host-backend=ssh', `--inventory=${path.join(dir, 'inv')}`], env });
    assert.equal(c.hostBackend, 'ssh');
    assert.equal(c.inventory, path.join(dir, 'inv'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
