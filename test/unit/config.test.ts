import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadConfig, ConfigError, isLoopback } from '../../src/config';
import { INSTALL_ROOT, DEFAULT_LABS_ROOT } from '../../src/labs';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tl-config-'));
}

test('defaults: loopback, port 8080, XDG data dir, the repo labs, local backend', () => {
  const c = loadConfig({ argv: [], env: { HOME: '/home/u', XDG_DATA_HOME: '/xdg' } });
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8080);
  assert.equal(c.dataDir, '/xdg/tracelab');
  assert.equal(c.labsDir, DEFAULT_LABS_ROOT);
  assert.equal(c.hostBackend, 'local');
});

test('precedence: env < config file < flags', () => {
  const d = tmp();
  try {
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ port: 9001, host: '127.0.0.2', labsDir: 'mylabs' }));
    const env = { TRACELAB_PORT: '9000', TRACELAB_HOST: '127.0.0.3', TRACELAB_DATA: d, TRACELAB_HOST_BACKEND: 'local' };
    const fromFile = loadConfig({ argv: [], env });
    assert.equal(fromFile.port, 9001);
    assert.equal(fromFile.host, '127.0.0.2');
    assert.equal(fromFile.labsDir, path.join(d, 'mylabs'));
    assert.equal(fromFile.configFile, path.join(d, 'config.json'));
    const flags = loadConfig({ argv: ['--port', '0', '--host=127.0.0.9'], env });
    assert.equal(flags.port, 0);
    assert.equal(flags.host, '127.0.0.9');
    const envOnly = loadConfig({ argv: ['--data', path.join(d, 'elsewhere')], env });
    assert.equal(envOnly.port, 9000);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('bad values give clear errors', () => {
  const env = { HOME: '/home/u' };
  assert.throws(() => loadConfig({ argv: ['--port', '70000'], env }), (e: unknown) => e instanceof ConfigError && /--port: port must be an integer/.test(e.message));
  assert.throws(() => loadConfig({ argv: ['--bogus'], env }), /unknown option '--bogus'/);
  assert.throws(() => loadConfig({ argv: ['--port'], env }), /--port needs a value/);
  assert.throws(() => loadConfig({ argv: [], env: { TRACELAB_PORT: 'abc' } }), /TRACELAB_PORT/);
  assert.throws(() => loadConfig({ argv: ['--config', '/nonexistent/tl.json'], env }), /does not exist/);
  const d = tmp();
  try {
    fs.writeFileSync(path.join(d, 'c.json'), '{"prot": 1}');
    assert.throws(() => loadConfig({ argv: ['--config', path.join(d, 'c.json')], env }), /unknown key\(s\) prot/);
    fs.writeFileSync(path.join(d, 'c.json'), '{not json');
    assert.throws(() => loadConfig({ argv: ['--config', path.join(d, 'c.json')], env }), /c\.json/);
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('the data dir may not be inside the installation', () => {
  assert.throws(() => loadConfig({ argv: ['--data', path.join(INSTALL_ROOT, 'data')], env: {} }), /inside the tracelab installation/);
});

test('isLoopback', () => {
  const yes = ['127.0.0.1', '127.1.2.3', '127.255.255.255', 'localhost', 'LOCALHOST', 'localhost.', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '[::ffff:127.0.0.1]', '::ffff:7f00:1'];
  for (const h of yes) assert.equal(isLoopback(h), true, h);
  const no = ['0.0.0.0', '::', '[::]', '192.168.1.5', '128.0.0.1', '::2', '::ffff:10.0.0.1', '::ffff:0.0.0.0', 'example.com', 'localhost.example.com', '127.0.0.1.nip.io', '', '[127.0.0.1'];
  for (const h of no) assert.equal(isLoopback(h), false, h);
});
