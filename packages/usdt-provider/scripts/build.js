'use strict';
// npm install hook: builds the USDT addon on Linux with node-gyp, offline when the
// running node's headers are installed beside it (Debian/NodeSource put them in
// <prefix>/include/node). Elsewhere it does nothing: illumos and macOS use the
// real dtrace-provider (see index.js). A failed build does not fail the install
// (the package then works as a no-op, like dtrace-provider's stub); it says so.
var spawnSync = require('child_process').spawnSync;
var fs = require('fs');
var path = require('path');

if (process.platform !== 'linux') process.exit(0);

var pkgDir = path.join(__dirname, '..');
var args = ['rebuild'];
var prefix = path.join(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir &&
    fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push('--nodedir=' + prefix);
}

// npm tells scripts where its bundled node-gyp is; fall back to PATH.
var gyp = process.env.npm_config_node_gyp;
var cmd = gyp ? process.execPath : 'node-gyp';
var argv = gyp ? [gyp].concat(args) : args;
var r = spawnSync(cmd, argv, { cwd: pkgDir, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('dtrace-provider (tracelab): building the USDT addon failed' +
    (r.error ? ' (' + r.error.message + ')' : '') +
    '; probes will not fire. Needs: make, a C compiler, sys/sdt.h ' +
    '(apt-get install systemtap-sdt-dev) and the node headers.');
}
process.exit(0);
