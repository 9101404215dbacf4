/**
 * The app probes of packages/usdt-provider, traced by real bpftrace: arguments of each
 * type arrive intact, callbacks run only while traced, enable/disable gate firing,
 * the semaphore drops when the tracer leaves, and attaching by path sees every process.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADDON, PKG_DIR, Proc, bpftrace, cannotTrace, cleanup, fixture } from './helpers';

const skip = cannotTrace();
after(cleanup);

// A fixture app driven over stdin: each command does something and replies one JSON line.
const APP = `
var d = require(${JSON.stringify(PKG_DIR)});
var prov = d.createDTraceProvider('testapp');
var ints = prov.addProbe('ints', 'int', 'int', 'int');
var strs = prov.addProbe('strs', 'char *', 'json');
var six = prov.addProbe('six', 'int', 'char *', 'int', 'char *', 'char *', 'json');
prov.enable();
var calls = 0;
var cmds = {
  fire: function () {
    var fired = [
      ints.fire(function () { calls++; return [-5, Math.pow(2, 40), 0]; }),
      strs.fire(function () { calls++; return ['h\\u00e9llo w\\u00f6rld', { a: [1, 2], s: 'x' }]; }),
      six.fire(function () { calls++; return [1, 'b', 3, 'd', 'e', { k: 1 }]; })
    ];
    return { fired: fired };
  },
  extra: function () {
    return { fired: prov.fire('ints', function (a, b) { calls++; return [a, b, this === ints ? 1 : 0]; }, 7, 8) };
  },
  enable: function () { prov.enable(); return {}; },
  disable: function () { prov.disable(); return {}; }
};
require('readline').createInterface({ input: process.stdin }).on('line', function (cmd) {
  var r = cmds[cmd]();
  console.log(JSON.stringify({ reply: cmd, fired: r.fired, calls: calls, traced: d.traced() }));
});
console.log('ready ' + process.pid);
`;

// Full addon path: bpftrace 0.17 rejects several blocks on usdt:*:... with -p.
const PROBE = `usdt:${ADDON}:tracelab:fire`;
const TRACE = `
${PROBE} /strncmp(str(arg0), "testapp:ints", 13) == 0/ { printf("INTS %s %lld %lld %lld\\n", str(arg0), arg1, arg2, arg3); }
${PROBE} /strncmp(str(arg0), "testapp:strs", 13) == 0/ { printf("STRS %s|%s\\n", str(arg1), str(arg2)); }
${PROBE} /strncmp(str(arg0), "testapp:six", 12) == 0/ { printf("SIX %d %s %d %s|%s\\n", arg1, str(arg2), arg3, str(arg4), str(arg5)); }
`;

async function startApp(): Promise<Proc> {
  const app = new Proc(process.execPath, [fixture('app.js', APP)]);
  await app.waitFor(/^ready \d+$/);
  return app;
}

test('probes: untraced, callbacks are not called; traced, bpftrace sees int / char * / json args', { skip: skip ?? false }, async () => {
  const app = await startApp();

  const cold = await app.ask('fire');
  assert.equal(cold.traced, false, 'semaphore is 0 before any tracer attaches');
  assert.equal(cold.calls, 0, 'no argument callback may run while untraced');
  assert.deepEqual(cold.fired, [null, null, null]);

  const bt = await bpftrace(TRACE, ['-p', String(app.child.pid)]);
  const hot = await app.ask('fire');
  assert.equal(hot.traced, true, 'semaphore is non-zero while bpftrace is attached');
  assert.equal(hot.calls, 3, 'each probe builds its arguments once while traced');
  assert.deepEqual(hot.fired, [true, true, true]);

  assert.equal(await bt.waitFor(/^INTS /), `INTS testapp:ints -5 ${2 ** 40} 0`);
  assert.equal(await bt.waitFor(/^STRS /), 'STRS héllo wörld|{"a":[1,2],"s":"x"}');
  // 6 arguments: the 5th and 6th are packed into arg5 as one JSON array.
  assert.equal(await bt.waitFor(/^SIX /), 'SIX 1 b 3 d|["e",{"k":1}]');

  // provider.fire passes extra arguments to the callback, with this = the probe.
  const from = bt.lines.length;
  const extra = await app.ask('extra');
  assert.equal(extra.fired, true);
  assert.equal(await bt.waitFor(/^INTS /, 20000, from), 'INTS testapp:ints 7 8 1');

  await bt.stop();
  const after = await app.ask('fire');
  assert.equal(after.traced, false, 'semaphore drops back to 0 when bpftrace detaches');
  assert.equal(after.calls, hot.calls + 1, 'no callbacks after the tracer left');
  await app.stop('SIGKILL');
});

test('probes: disable() stops firing and enable() resumes, while traced', { skip: skip ?? false }, async () => {
  const app = await startApp();
  const bt = await bpftrace(`${PROBE} { printf("FIRE %s\\n", str(arg0)); }`, ['-p', String(app.child.pid)]);
  await app.ask('disable');
  const off = await app.ask('fire');
  assert.equal(off.traced, true);
  assert.equal(off.calls, 0, 'a disabled provider does not build arguments');
  assert.deepEqual(off.fired, [null, null, null]);
  await app.ask('enable');
  const on = await app.ask('fire');
  assert.equal(on.calls, 3);
  await bt.waitFor(/^FIRE testapp:six$/);
  await bt.stop();
  // Nothing fired while disabled: exactly one round of the three probes was seen.
  assert.deepEqual(bt.lines.filter((l) => l.startsWith('FIRE ')), ['FIRE testapp:ints', 'FIRE testapp:strs', 'FIRE testapp:six']);
  await app.stop('SIGKILL');
});

test('probes: attaching by the addon path (no -p) sees a process started afterwards', { skip: skip ?? false }, async () => {
  const bt = await bpftrace(`${PROBE} /strncmp(str(arg0), "testapp:", 8) == 0/ { printf("PID %d %s\\n", pid, str(arg0)); }`);
  const app = await startApp();
  const r = await app.ask('fire');
  assert.equal(r.traced, true, 'the kernel raised the semaphore in the new process');
  assert.equal(await bt.waitFor(/^PID \d+ testapp:ints$/), `PID ${app.child.pid} testapp:ints`);
  await bt.stop();
  await app.stop('SIGKILL');
});
