/**
 * Probes other code fires through the package: the http preload (Node's
 * diagnostics_channel → node:http-server-request/response) and restify 11's own
 * probes via `require('dtrace-provider')` from labs/node_modules, both traced by bpftrace.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { ADDON, LABS_DIR, PKG_DIR, Proc, bpftrace, cannotTrace, cleanup, fixture } from './helpers';

const skip = cannotTrace();
after(cleanup);

const PROBE = `usdt:${ADDON}:tracelab:fire`;

/** GET url; resolves with the status and the client's local port (the server's remotePort). */
function get(url: string): Promise<{ status: number; port: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, port: req.socket!.localPort! }));
    });
    req.on('error', reject);
  });
}

const SERVER = `
var http = require('http');
var s = http.createServer(function (req, res) {
  res.statusCode = req.url.indexOf('/missing') === 0 ? 404 : 200;
  res.end('ok');
});
s.listen(0, '127.0.0.1', function () { console.log('port ' + s.address().port); });
`;

test('http preload: request and response probes carry url, method, address, port, fd, status', { skip: skip ?? false }, async () => {
  const app = new Proc(process.execPath, ['-r', path.join(PKG_DIR, 'http-probes.js'), fixture('server.js', SERVER)]);
  const port = Number((await app.waitFor(/^port \d+$/)).split(' ')[1]);
  const bt = await bpftrace(`
${PROBE} /strncmp(str(arg0), "node:http-server-request", 25) == 0/ { printf("REQ %s %s %s %lld %lld\\n", str(arg1), str(arg2), str(arg3), arg4, arg5); }
${PROBE} /strncmp(str(arg0), "node:http-server-response", 26) == 0/ { printf("RES %s %lld %lld %lld\\n", str(arg1), arg2, arg3, arg4); }
`, ['-p', String(app.child.pid)]);

  const ok = await get(`http://127.0.0.1:${port}/hello?probe=1`);
  const req1 = (await bt.waitFor(/^REQ /)).split(' ');
  const res1 = (await bt.waitFor(/^RES /)).split(' ');
  assert.deepEqual(req1.slice(0, 5), ['REQ', '/hello?probe=1', 'GET', '127.0.0.1', String(ok.port)]);
  const fd = Number(req1[5]);
  assert.ok(fd > 2, `request fd is a real descriptor: ${fd}`);
  assert.deepEqual(res1, ['RES', '127.0.0.1', String(ok.port), String(fd), '200']);

  const from = bt.lines.length;
  const nf = await get(`http://127.0.0.1:${port}/missing`);
  assert.equal(nf.status, 404);
  assert.match(await bt.waitFor(/^REQ /, 20000, from), new RegExp(`^REQ /missing GET 127\\.0\\.0\\.1 ${nf.port} \\d+$`));
  assert.match(await bt.waitFor(/^RES /, 20000, from), new RegExp(`^RES 127\\.0\\.0\\.1 ${nf.port} \\d+ 404$`));
  await bt.stop();
  await app.stop('SIGKILL');
});

const RESTIFY_APP = `
var restify = require('restify');
var server = restify.createServer({ name: 'usdtdemo', dtrace: true });
server.get('/hello/:name', function sayHello(req, res, next) {
  res.send({ hello: req.params.name });
  next();
});
server.listen(0, '127.0.0.1', function () { console.log('port ' + server.address().port); });
`;

const haveRestify = fs.existsSync(path.join(LABS_DIR, 'node_modules', 'restify'));

test("restify: createServer({dtrace: true}) fires route and handler probes through require('dtrace-provider')", {
  skip: skip ?? (haveRestify ? false : 'restify not installed in labs/ (run scripts/setup.d/20-usdt.sh)'),
}, async () => {
  // Lab apps find restify and us through NODE_PATH, as checkers run them (src/check/labenv.ts).
  const env = { ...process.env, NODE_PATH: path.join(LABS_DIR, 'node_modules') };
  const app = new Proc(process.execPath, ['--no-deprecation', fixture('demo.js', RESTIFY_APP)], { env });
  const port = Number((await app.waitFor(/^port \d+$/)).split(' ')[1]);
  const bt = await bpftrace(`
${PROBE} /strncmp(str(arg0), "restify:route-start", 20) == 0/ { printf("RS %s %s %lld %s %s\\n", str(arg1), str(arg2), arg3, str(arg4), str(arg5)); }
${PROBE} /strncmp(str(arg0), "restify:handler-start", 22) == 0/ { printf("HS %s %s %lld\\n", str(arg1), str(arg3), arg4); }
${PROBE} /strncmp(str(arg0), "restify:handler-done", 21) == 0/ { printf("HD %s %s %lld\\n", str(arg1), str(arg3), arg4); }
${PROBE} /strncmp(str(arg0), "restify:route-done", 19) == 0/ { printf("RD %s %s %lld %lld\\n", str(arg1), str(arg2), arg3, arg4); }
`, ['-p', String(app.child.pid)]);

  const r = await get(`http://127.0.0.1:${port}/hello/world`);
  assert.equal(r.status, 200);
  const rs = await bt.waitFor(/^RS /);
  const m = /^RS usdtdemo gethelloname (\d+) GET (\[.*)$/.exec(rs);
  assert.ok(m, `route-start: ${rs}`);
  const id = m[1];
  // arg5 packs (url, headers) as JSON; str() cuts it at 64 bytes, the url comes first.
  assert.ok(m[2].startsWith('["/hello/world",{'), `route-start arg5: ${m[2]}`);
  assert.equal(await bt.waitFor(/^HS /), `HS usdtdemo sayHello ${id}`);
  assert.equal(await bt.waitFor(/^HD /), `HD usdtdemo sayHello ${id}`);
  assert.equal(await bt.waitFor(/^RD /), `RD usdtdemo gethelloname ${id} 200`);
  await bt.stop();
  await app.stop('SIGKILL');
});
