/**
 * A slow lab host's start, as the page's WebSocket sees it: HOST_PROGRESS messages
 * in order while the host starts, then a working shell; a page that connects
 * mid-boot gets the latest progress at once; a failed start is HOST_ERROR (no
 * shell, no reconnect loop) and the next connection (Retry) starts it again.
 *
 * The backend is a TEST BACKEND (./slow-start-host.ts) registered for this file
 * only: a real LabHost whose start() takes about a second and reports progress,
 * then hands shells to the real local host (tmux).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp, App } from '../../portal/server/app';
import { BACKEND, SLOW_STEPS, registerSlowStartBackend } from './slow-start-host';
import type { HostStatus } from '../../portal/server/hosts';
import { MSG, MAX_CONTROL_BYTES, decodeControl, encodeControl, hostMessage } from '../../portal/shared/protocol';
import { tempData, testConfig, cleanupData, login, TermClient, FIXTURE_LABS } from './harness';

let data: string;
let portal: App;
let base: string;
let wsUrl: string;
let unregister: () => void;

before(async () => {
  unregister = registerSlowStartBackend();
  data = tempData();
  portal = buildApp(testConfig(data, { hostBackend: BACKEND, labsDir: FIXTURE_LABS }), { log: () => undefined });
  const { url } = await portal.listen();
  base = url;
  wsUrl = url.replace('http:', 'ws:') + 'api/terminal?cols=100&rows=30';
});

after(async () => {
  unregister();
  await portal.close();
  cleanupData(data);
});

const origin = () => base.replace(/\/$/, '');

async function client(user: string): Promise<TermClient> {
  const cookie = await login(base, portal.issueLoginToken(user));
  return new TermClient(wsUrl, { Origin: origin(), cookie });
}

const progressOf = (t: TermClient) => t.controls.filter((c) => c.t === MSG.HOST_PROGRESS);

test('the page receives the host start progress in order, then a working shell', async () => {
  const seen: HostStatus[] = [];
  const off = portal.hosts.onStatus((u, s) => u === 'slow' && seen.push(s));
  const t = await client('slow');
  try {
    await t.until(() => t.controls.some((c) => c.t === MSG.STATUS && c.state === 'attached'), 'attached', 20000);
    const attachedAt = t.controls.findIndex((c) => c.state === 'attached');
    const progress = t.controls.slice(0, attachedAt).filter((c) => c.t === MSG.HOST_PROGRESS);
    // Every step the backend reported, in order, before the shell.
    const messages = progress.map((c) => c.message);
    let at = -1;
    for (const [, m] of SLOW_STEPS) {
      const i = messages.indexOf(m, at + 1);
      assert.ok(i > at, `'${m}' after the previous step in ${JSON.stringify(messages)}`);
      at = i;
    }
    const percents = progress.map((c) => c.percent);
    assert.deepEqual(percents, [...percents].sort((a, b) => a - b), 'percent never goes back');
    assert.equal(progressOf(t).length, progress.length, 'no progress after the shell attached');

    await t.until(() => /tracelab/.test(t.text), 'the prompt');
    t.type('echo hp-$((6*7))\r');
    await t.until(() => /hp-42/.test(t.text), 'hp-42 from the shell');

    // The dashboard's view: the same progress, then running.
    assert.deepEqual(portal.hosts.status('slow'), { state: 'running', percent: 100, message: 'ready' });
    assert.equal(seen[0].state, 'starting');
    assert.equal(seen[seen.length - 1].state, 'running');
    for (const [p, m] of SLOW_STEPS) assert.ok(seen.some((s) => s.state === 'starting' && s.percent === p && s.message === m), `status event ${p}% ${m}`);
  } finally {
    off();
    await t.close();
  }
});

test('a page that connects while the host is booting sees the latest progress at once', async () => {
  const a = await client('late');
  let b: TermClient | null = null;
  try {
    await a.until(() => progressOf(a).some((c) => c.percent === 40), 'A at 40%', 20000);
    b = await client('late');
    const bb = b;
    await bb.until(() => progressOf(bb).length > 0, 'B gets progress');
    const first = progressOf(bb)[0];
    assert.ok(first.percent >= 40, `B's first progress is the latest (${JSON.stringify(first)}), not a fresh start`);
    await Promise.all([a, bb].map((c) => c.until(() => c.controls.some((m) => m.state === 'attached'), 'attached', 20000)));
    // One start shared by both pages: each step was reported once.
    assert.equal(progressOf(a).filter((c) => c.message === 'booting').length, 1);
  } finally {
    await a.close();
    if (b) await b.close();
  }
});

test('a failed start is HOST_ERROR with the host\'s reason, no shell; the next connection (Retry) starts it again', async () => {
  const t = await client('failing');
  try {
    await t.until(() => t.closed !== null, 'the socket closes', 20000);
    const err = t.controls.find((c) => c.t === MSG.HOST_ERROR);
    assert.ok(err, `a host-error in ${JSON.stringify(t.controls)}`);
    assert.equal(err.code, 'HOST_START_FAILED');
    assert.match(err.message, /could not be found/);
    assert.equal(t.controls.some((c) => c.state === 'attached'), false);
    assert.equal(t.controls.some((c) => c.t === MSG.ERROR), false, 'a host failure is not reported as a protocol/portal error');
    const dead = portal.hosts.status('failing')!;
    assert.equal(dead.state, 'dead');
    assert.equal(dead.code, 'HOST_START_FAILED');
    assert.equal(dead.percent, 40, 'the dashboard sees how far it got');
  } finally {
    await t.close();
  }
  const retry = await client('failing');
  try {
    await retry.until(() => retry.controls.some((c) => c.state === 'attached'), 'attached after Retry', 20000);
    assert.ok(progressOf(retry).some((c) => c.message === 'provisioning'), 'the retry started the host again, with progress');
  } finally {
    await retry.close();
  }
});

test('the instructor dashboard\'s bus sees a student\'s first start progress, then running', async () => {
  // A class student whose host comes from the test backend (config.hostBackend) rather than local-user.
  portal.classMode.service.create('hp-class', [{ id: 'hp-stu', name: 'Stu', email: '', line: 2 }], 'local');
  const classBackend = portal.hosts.backendOf;
  portal.hosts.backendOf = () => null;
  const events: { state: string; percent: number; message: string }[] = [];
  const off = portal.classMode.bus.subscribe((e) => e.type === 'host' && e.user === 'hp-stu' && e.class === 'hp-class' && events.push({ state: e.state, percent: e.percent, message: e.message }));
  try {
    await portal.hosts.get('hp-stu');
    await new Promise((r) => setImmediate(r));
    assert.ok(events.some((e) => e.state === 'starting' && e.message === 'booting' && e.percent === 40), JSON.stringify(events));
    assert.equal(events[events.length - 1].state, 'running', JSON.stringify(events));
    assert.equal(portal.hosts.status('hp-stu')!.state, 'running');
  } finally {
    off();
    portal.hosts.backendOf = classBackend;
  }
});

test('host-progress / host-error messages: clamped, and a long host message still fits a control frame', () => {
  const d = decodeControl(JSON.stringify({ t: 'host-progress', percent: 250.4, message: 'x' }));
  assert.ok(d.ok);
  assert.deepEqual(d.msg, { t: MSG.HOST_PROGRESS, percent: 100, message: 'x' });
  assert.equal(decodeControl('{"t":"host-progress","percent":"5","message":"x"}').ok, false);
  assert.equal(decodeControl('{"t":"host-error","code":"X"}').ok, false);
  // vagrant's error-exit text can be long, quoted and multi-line.
  const ugly = '"\\\n\x01'.repeat(2000);
  const frame = encodeControl({ t: MSG.HOST_ERROR, code: 'HOST_START_FAILED', message: hostMessage(ugly) });
  assert.ok(frame.length <= MAX_CONTROL_BYTES, `${frame.length} bytes`);
  const back = decodeControl(frame);
  assert.ok(back.ok && back.msg.t === MSG.HOST_ERROR && back.msg.message.endsWith('…'));
});
