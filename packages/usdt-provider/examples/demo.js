'use strict';
// Fires two app probes every 200 ms: `node examples/demo.js`, then in another
// terminal `bpftrace -p $(pgrep -f examples/demo.js) examples/app-probes.bt`.
var d = require('..');
var dtp = d.createDTraceProvider('nodeapp');
var p1 = dtp.addProbe('probe1', 'int', 'int');
var p2 = dtp.addProbe('probe2', 'char *', 'json');
dtp.enable();
var n = 0;
setInterval(function () {
  n++;
  p1.fire(function () { return [n, n * 2]; });
  dtp.fire('probe2', function (greeting) { return [greeting, { n: n, ok: true }]; }, 'hello');
}, 200);
