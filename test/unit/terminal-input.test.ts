/**
 * The gateway's input queue (portal/server/terminal/input.ts) and its reading of why a
 * shell ended (portal/server/terminal/exit-reason.ts), without a shell: the pieces the
 * fault tests (test/faults/) drive end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputQueue, INPUT_HIGH, INPUT_LOW, INPUT_BURST, INPUT_SLICE } from '../../portal/server/terminal/input';
import { exitReason } from '../../portal/server/terminal/exit-reason';
import { MAX_PASTE_BYTES, EXIT_REASON, decodeControl } from '../../portal/shared/protocol';

test('a keystroke goes to the shell at once; a paste past INPUT_HIGH pauses the socket until the backlog is below INPUT_LOW', async () => {
  const written: Buffer[] = [];
  const events: boolean[] = [];
  const q = new InputQueue((b) => written.push(b), (p) => events.push(p));
  try {
    q.push(Buffer.from('l'));
    assert.equal(Buffer.concat(written).toString(), 'l', 'written synchronously');
    const paste = Buffer.alloc(INPUT_HIGH + 4 * INPUT_SLICE);
    for (let i = 0; i < paste.length; i++) paste[i] = 0x20 + (i % 90);
    for (let o = 0; o < paste.length; o += 16384) q.push(paste.subarray(o, o + 16384));
    assert.deepEqual(events, [true], 'paused once the backlog passed INPUT_HIGH');
    assert.ok(q.queued <= INPUT_HIGH + 4 * INPUT_SLICE);
    const until = Date.now() + 10_000;
    while (q.queued > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.equal(q.queued, 0, 'drained');
    assert.deepEqual(events, [true, false], 'resumed');
    assert.ok(written.every((b) => b.length <= INPUT_SLICE), 'slices');
    assert.deepEqual(Buffer.concat(written).subarray(1), paste, 'every byte, in order');
  } finally {
    q.dispose();
  }
});

test('a paste beyond INPUT_BURST is metered, not written in one turn', () => {
  const written: Buffer[] = [];
  const q = new InputQueue((b) => written.push(b), () => undefined);
  try {
    q.push(Buffer.alloc(INPUT_BURST * 4));
    // Synchronously only the first slice; the meter lets BURST through before waiting.
    assert.equal(Buffer.concat(written).length, INPUT_SLICE);
  } finally {
    q.dispose();
  }
});

test('one burst over MAX_PASTE_BYTES is refused; clear() forgets it and reads the socket again', () => {
  const events: boolean[] = [];
  const q = new InputQueue(() => undefined, (p) => events.push(p));
  try {
    const frame = Buffer.alloc(64 * 1024);
    let r = 'ok';
    let n = 0;
    while (r === 'ok' && n < MAX_PASTE_BYTES / frame.length + 2) {
      r = q.push(frame);
      n++;
    }
    assert.equal(r, 'too-large');
    assert.equal(n - 1, MAX_PASTE_BYTES / frame.length, 'exactly MAX_PASTE_BYTES were taken');
    q.clear();
    assert.equal(q.queued, 0);
    assert.deepEqual(events, [true, false]);
    assert.equal(q.push(Buffer.from('x')), 'ok', 'a new burst starts from zero');
  } finally {
    q.dispose();
  }
});

test('exitReason reads the goodbye of a tmux client (tails measured with tmux 3.3a)', () => {
  const reset = '\x1b[1;24r\x1b(B\x1b[m\x1b[?1l\x1b>\x1b[H\x1b[2J\x1b[?12l\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1005l\x1b[?7727l\x1b[?1004l';
  const prompt = '\x1b[36m\x1b[1mtracelab\x1b(B\x1b[m \x1b[34m\x1b[1mself\x1b(B\x1b[m# \x1b[?2004h';
  assert.equal(exitReason(`${prompt}exit 3\r\n\x1b[?2004lexit\r\n${reset}[exited]\r\n`, 0), EXIT_REASON.EXIT);
  assert.equal(exitReason(`${prompt}${reset}[exited]\r\n`, 0), EXIT_REASON.ENDED);
  assert.equal(exitReason(`${prompt}[server exited unexpectedly]\n`, 1), EXIT_REASON.SESSION_KILLED);
  assert.equal(exitReason(`${prompt}[lost server]\r\n`, 1), EXIT_REASON.SESSION_KILLED);
  assert.equal(exitReason(`${reset}[detached (from session tl-self)]\r\n`, 0), EXIT_REASON.DETACHED);
  assert.equal(exitReason(`${reset}[terminated]\r\n`, 1), EXIT_REASON.DETACHED);
  // What a student prints is not a goodbye unless it is the very last thing.
  assert.equal(exitReason('echo [exited]\r\n[exited]\r\nmore output\r\n', 1), EXIT_REASON.LOST);
  // No goodbye (a control-mode stream): a clean end is ENDED, an abnormal one LOST, no code UNKNOWN.
  assert.equal(exitReason('', 0), EXIT_REASON.ENDED);
  assert.equal(exitReason('', 1), EXIT_REASON.LOST);
  assert.equal(exitReason('', null), EXIT_REASON.UNKNOWN);
});

test('EXIT carries a known reason or none; an unknown one decodes as unknown', () => {
  const ok = decodeControl('{"t":"exit","code":1,"reason":"session-killed"}');
  assert.ok(ok.ok && ok.msg.t === 'exit' && ok.msg.reason === 'session-killed');
  const none = decodeControl('{"t":"exit","code":0}');
  assert.ok(none.ok && none.msg.t === 'exit' && !('reason' in none.msg));
  const odd = decodeControl('{"t":"exit","code":null,"reason":"<img>"}');
  assert.ok(odd.ok && odd.msg.t === 'exit' && odd.msg.reason === 'unknown');
});

test('INPUT_ACK counts what left the socket; a lone Ctrl-C drops a paste still queued and goes through at once', async () => {
  const written: Buffer[] = [];
  const acks: number[] = [];
  const q = new InputQueue((b) => written.push(b), () => undefined, (n) => acks.push(n));
  try {
    const paste = Buffer.alloc(512 * 1024, 0x61);
    for (let o = 0; o < paste.length; o += 16384) q.push(paste.subarray(o, o + 16384));
    await new Promise((r) => setTimeout(r, 100));
    const typed = Buffer.concat(written).length;
    assert.ok(typed > 0 && typed < paste.length, `part of the paste typed (${typed} bytes), the rest metered`);
    assert.ok(acks.length > 0 && acks[acks.length - 1] <= typed, `acks follow what was typed (${acks.join(', ')})`);
    q.push(Buffer.from([0x03]));
    const all = Buffer.concat(written);
    assert.equal(all[all.length - 1], 0x03, 'the Ctrl-C is written at once, after what was typed');
    assert.equal(q.queued, 0, 'nothing of the paste left to type');
    assert.equal(q.droppedByInterrupt, paste.length - (all.length - 1), 'the rest of the paste was dropped');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(Buffer.concat(written).length, all.length, 'nothing typed after the Ctrl-C');
    assert.equal(acks[acks.length - 1], paste.length + 1, 'the ack covers the dropped bytes and the Ctrl-C: the page may send again');
    // A Ctrl-C with nothing queued is just a key: nothing dropped.
    q.push(Buffer.from([0x03]));
    assert.equal(q.droppedByInterrupt, paste.length - (all.length - 1));
  } finally {
    q.dispose();
  }
});
