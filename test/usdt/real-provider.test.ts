/**
 * On illumos, macOS and FreeBSD the package hands every caller the real
 * dtrace-provider (installed beside it as `real-dtrace-provider`, or at
 * $TRACELAB_REAL_DTRACE_PROVIDER), so `dtrace -l -P 'app*'` sees real probes; with
 * neither there it is the no-op API. Nothing installs the real one on Linux, so
 * these tests fake both: a preload sets process.platform before index.js reads it,
 * and a stand-in module plays the real provider. What they cannot show: that the
 * real dtrace-provider's addon builds and fires there (the illumos box does that).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PKG_DIR } from './helpers';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelab-real-provider-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

// The stand-in: dtrace-provider's entry point, marked so a caller can tell it apart.
const STANDIN = `exports.isStandIn = true;
exports.createDTraceProvider = function (name) {
  return { name: name, addProbe: function () { return { fire: function () { return 'standin'; } }; }, enable: function () {} };
};
`;
const BY_ENV = path.join(TMP, 'by-env', 'provider.js');
const BY_NAME = path.join(TMP, 'node_modules', 'real-dtrace-provider', 'index.js');
for (const f of [BY_ENV, BY_NAME]) {
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, STANDIN.replace('isStandIn = true', `isStandIn = ${JSON.stringify(path.relative(TMP, f))}`));
}
const PLATFORM = path.join(TMP, 'platform.js');
fs.writeFileSync(PLATFORM, "Object.defineProperty(process, 'platform', { value: process.env.FAKE_PLATFORM });\n");

/** What require('dtrace-provider') gives a process on `platform`, with `env` added. */
function loadAs(platform: string, env: NodeJS.ProcessEnv = {}): { standIn: string | null; api: string[]; fired: unknown; addonPath: unknown; debug: string } {
  const script = `var d = require(${JSON.stringify(PKG_DIR)});
var p = d.createDTraceProvider('fake');
var probe = p.addProbe('p', 'int');
p.enable();
var fired = probe.fire(function () { return [1]; });
console.log(JSON.stringify({ standIn: d.isStandIn || null, api: Object.keys(d).sort(), fired: fired === undefined ? null : fired, addonPath: d.addonPath === undefined ? 'absent' : d.addonPath }));`;
  const base: NodeJS.ProcessEnv = { ...process.env, FAKE_PLATFORM: platform, TRACELAB_USDT_DEBUG: '1' };
  delete base.TRACELAB_REAL_DTRACE_PROVIDER;
  delete base.NODE_PATH;
  const r = spawnSync(process.execPath, ['-r', PLATFORM, '-e', script], { env: { ...base, ...env }, encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  return { ...JSON.parse(r.stdout), debug: r.stderr };
}

test('real provider: on illumos, macOS and FreeBSD require() hands back real-dtrace-provider when it is installed', () => {
  for (const platform of ['sunos', 'darwin', 'freebsd']) {
    const r = loadAs(platform, { NODE_PATH: path.join(TMP, 'node_modules') });
    assert.equal(r.standIn, 'node_modules/real-dtrace-provider/index.js', `${platform}: ${JSON.stringify(r)}`);
    assert.equal(r.fired, 'standin', 'probes fire through the real provider');
    assert.equal(r.addonPath, 'absent', "the real provider's exports, not tracelab's extras");
  }
});

test('real provider: $TRACELAB_REAL_DTRACE_PROVIDER wins over the installed name', () => {
  const r = loadAs('sunos', { NODE_PATH: path.join(TMP, 'node_modules'), TRACELAB_REAL_DTRACE_PROVIDER: BY_ENV });
  assert.equal(r.standIn, 'by-env/provider.js');
  // A broken path falls back to the installed name, and says why with TRACELAB_USDT_DEBUG.
  const broken = loadAs('sunos', { NODE_PATH: path.join(TMP, 'node_modules'), TRACELAB_REAL_DTRACE_PROVIDER: path.join(TMP, 'nowhere.js') });
  assert.equal(broken.standIn, 'node_modules/real-dtrace-provider/index.js');
  assert.match(broken.debug, /could not load .*nowhere\.js/);
});

test('real provider: on illumos without it, the no-op API (and TRACELAB_USDT_DEBUG says what was missing)', () => {
  const r = loadAs('sunos');
  assert.equal(r.standIn, null);
  assert.ok(r.api.includes('createDTraceProvider') && r.api.includes('traced'), JSON.stringify(r.api));
  assert.equal(r.addonPath, null, 'no addon off Linux');
  assert.equal(r.fired, null, 'nothing fires');
  assert.match(r.debug, /could not load real-dtrace-provider/);
});

test('real provider: Linux and other platforms never delegate, even when it is installed', () => {
  for (const platform of ['linux', 'win32']) {
    const r = loadAs(platform, { NODE_PATH: path.join(TMP, 'node_modules'), TRACELAB_REAL_DTRACE_PROVIDER: BY_ENV });
    assert.equal(r.standIn, null, `${platform}: ${JSON.stringify(r)}`);
    assert.ok(r.api.includes('traced'), "tracelab's own API");
  }
});
