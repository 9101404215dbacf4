'use strict';
// Preload that recreates the talk's node provider HTTP probes on a node built
// without DTrace/USDT (Debian's, and every Node >= 19):
//
//   node -r dtrace-provider/http-probes app.js
//
// It forwards Node's diagnostics_channel HTTP server events to app probes:
//   node:http-server-request   (url, method, remoteAddress, remotePort, fd)
//   node:http-server-response  (remoteAddress, remotePort, fd, statusCode)
// The talk's echo-server.d / server-latency.d match a request to its response
// by (remote address, port) or fd; both are here. fd is -1 when the socket has
// no file descriptor. Node versions without these channels (< 18.?, e.g. the
// illumos track's Node 6, which has the real node provider) get nothing.
var dc;
try {
  dc = require('diagnostics_channel');
} catch (e) {
  dc = null;
}

function fdOf(socket) {
  var h = socket && socket._handle;
  return h && typeof h.fd === 'number' ? h.fd : -1;
}

function subscribe(name, fn) {
  // dc.subscribe keeps a strong reference to the channel; channel(name).subscribe
  // alone could let the channel (and our subscription) be collected on some 18.x.
  if (typeof dc.subscribe === 'function') dc.subscribe(name, fn);
  else dc.channel(name).subscribe(fn);
}

if (dc && typeof dc.channel === 'function') {
  var provider = require('./index.js').createDTraceProvider('node');
  var request = provider.addProbe('http-server-request', 'char *', 'char *', 'char *', 'int', 'int');
  var response = provider.addProbe('http-server-response', 'char *', 'int', 'int', 'int');
  provider.enable();

  subscribe('http.server.request.start', function (msg) {
    request.fire(function () {
      var req = msg.request;
      var s = msg.socket || (req && req.socket);
      return [req && req.url, req && req.method, s && s.remoteAddress, s && s.remotePort, fdOf(s)];
    });
  });

  subscribe('http.server.response.finish', function (msg) {
    response.fire(function () {
      var s = msg.socket || (msg.request && msg.request.socket);
      return [s && s.remoteAddress, s && s.remotePort, fdOf(s), msg.response && msg.response.statusCode];
    });
  });

  module.exports = provider;
}
