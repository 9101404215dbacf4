import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MSG, PROTO_ERR, EXIT_REASON, ControlMessage, decodeControl, encodeControl, clampSize, chunkText, checkInputFrame, MAX_CONTROL_BYTES, MAX_INPUT_FRAME, SIZE } from '../../portal/shared/protocol';

type Tag = (typeof MSG)[keyof typeof MSG];
/**
 * Messages of every tag, each in the shapes it can take. Keyed by tag so the compiler
 * refuses this table when a tag is added to MSG without samples here, and the test
 * below checks the same at run time against MSG itself.
 */
const SAMPLES: { [K in Tag]: Extract<ControlMessage, { t: K }>[] } = {
  [MSG.RESIZE]: [{ t: MSG.RESIZE, cols: 120, rows: 40 }],
  [MSG.PAUSE]: [{ t: MSG.PAUSE }],
  [MSG.RESUME]: [{ t: MSG.RESUME }],
  [MSG.PING]: [{ t: MSG.PING, n: 7 }, { t: MSG.PING }],
  [MSG.PONG]: [{ t: MSG.PONG, n: 7 }, { t: MSG.PONG }],
  [MSG.ERROR]: [{ t: MSG.ERROR, code: 'X', message: 'y' }],
  [MSG.EXIT]: [{ t: MSG.EXIT, code: 0 }, { t: MSG.EXIT, code: null }, ...Object.values(EXIT_REASON).map((reason) => ({ t: MSG.EXIT, code: 1, reason }))],
  [MSG.STATUS]: [{ t: MSG.STATUS, state: 'attached', track: 'linux' }, { t: MSG.STATUS, state: 'starting' }],
  [MSG.TAKEOVER]: [{ t: MSG.TAKEOVER }],
  [MSG.RELEASE]: [{ t: MSG.RELEASE }],
  [MSG.MODE]: [{ t: MSG.MODE, mode: 'spectate' }, { t: MSG.MODE, mode: 'control', by: 'instructor' }],
  [MSG.HOST_PROGRESS]: [{ t: MSG.HOST_PROGRESS, percent: 40, message: 'booting the VM' }],
  [MSG.HOST_ERROR]: [{ t: MSG.HOST_ERROR, code: 'HOST_START_FAILED', message: 'vagrant up failed' }],
  [MSG.REDRAW]: [{ t: MSG.REDRAW }, { t: MSG.REDRAW, ok: true }, { t: MSG.REDRAW, ok: false }],
  [MSG.INPUT_ACK]: [{ t: MSG.INPUT_ACK, n: 0 }, { t: MSG.INPUT_ACK, n: 10 * 1024 * 1024 }],
};

test('every control message type round-trips through encode/decode', () => {
  assert.deepEqual(Object.keys(SAMPLES).sort(), Object.values(MSG).sort(), 'a sample for every tag in MSG');
  for (const [tag, msgs] of Object.entries(SAMPLES)) {
    assert.ok(msgs.length > 0, tag);
    for (const m of msgs as ControlMessage[]) {
      assert.equal(m.t, tag);
      const d = decodeControl(encodeControl(m));
      assert.ok(d.ok, JSON.stringify(m));
      assert.deepEqual(JSON.parse(JSON.stringify(d.msg)), m);
    }
  }
});

test('decoding normalises what it cannot trust', () => {
  const dec = (v: unknown) => {
    const d = decodeControl(JSON.stringify(v));
    assert.ok(d.ok, JSON.stringify(v));
    return JSON.parse(JSON.stringify(d.msg));
  };
  assert.deepEqual(dec({ t: 'exit', code: 0, reason: 'aliens' }), { t: 'exit', code: 0, reason: EXIT_REASON.UNKNOWN });
  assert.deepEqual(dec({ t: 'exit', code: 'x' }), { t: 'exit', code: null });
  assert.deepEqual(dec({ t: 'mode', mode: 'control', by: 'x'.repeat(500) }).by.length, 100);
  assert.deepEqual(dec({ t: 'host-progress', percent: 250.4, message: 'a\x07b' }), { t: 'host-progress', percent: 100, message: 'a b' });
  assert.equal(dec({ t: 'host-error', code: 'C'.repeat(100), message: 'm' }).code.length, 40);
  assert.deepEqual(dec({ t: 'redraw', ok: 'yes' }), { t: 'redraw', ok: false });
  assert.deepEqual(dec({ t: 'takeover', extra: 1 }), { t: 'takeover' });
});

test('malformed control frames are rejected with a code, never thrown', () => {
  const cases: [unknown, string][] = [
    ['not json', PROTO_ERR.NOT_JSON],
    ['[1,2]', PROTO_ERR.BAD_MESSAGE],
    ['null', PROTO_ERR.BAD_MESSAGE],
    ['{"t":5}', PROTO_ERR.BAD_MESSAGE],
    ['{"t":"launch-missiles"}', PROTO_ERR.UNKNOWN_TAG],
    ['{"t":"resize","cols":"80","rows":24}', PROTO_ERR.BAD_MESSAGE],
    ['{"t":"resize","cols":1e400,"rows":24}', PROTO_ERR.BAD_MESSAGE],
    ['{"t":"status","state":"root"}', PROTO_ERR.BAD_MESSAGE],
    ['{"t":"mode","mode":"root"}', PROTO_ERR.BAD_MESSAGE],
    ['{"t":"host-progress","percent":"50","message":"m"}', PROTO_ERR.BAD_MESSAGE],
    ['{"t":"host-error","code":1,"message":"m"}', PROTO_ERR.BAD_MESSAGE],
    ['{"t":"error","code":"X"}', PROTO_ERR.BAD_MESSAGE],
    ['{"t":"input-ack","n":-1}', PROTO_ERR.BAD_MESSAGE],
    ['{"t":"input-ack","n":1.5}', PROTO_ERR.BAD_MESSAGE],
    ['{"t":"input-ack"}', PROTO_ERR.BAD_MESSAGE],
    [JSON.stringify({ t: 'ping', pad: 'x'.repeat(MAX_CONTROL_BYTES) }), PROTO_ERR.TOO_LARGE],
    [Buffer.from('{}'), PROTO_ERR.BAD_MESSAGE],
  ];
  for (const [input, code] of cases) {
    const d = decodeControl(input);
    assert.equal(d.ok, false, String(input).slice(0, 40));
    if (!d.ok) {
      assert.equal(d.code, code, String(input).slice(0, 40));
      assert.ok(d.message.length > 0);
    }
  }
});

test('resize values are clamped to sane bounds', () => {
  const d = decodeControl('{"t":"resize","cols":100000,"rows":-5}');
  assert.ok(d.ok);
  assert.deepEqual(d.msg, { t: 'resize', cols: SIZE.maxCols, rows: SIZE.minRows });
  assert.deepEqual(clampSize(NaN, undefined), { cols: SIZE.defaultCols, rows: SIZE.defaultRows });
  assert.deepEqual(clampSize(80.7, 24.2), { cols: 80, rows: 24 });
});

test('oversized input frames are refused', () => {
  assert.equal(checkInputFrame(MAX_INPUT_FRAME).ok, true);
  const r = checkInputFrame(MAX_INPUT_FRAME + 1);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.code, PROTO_ERR.TOO_LARGE);
});

test('chunkText splits by UTF-8 bytes without cutting a character', () => {
  const text = 'aé€😀'.repeat(5000);
  const chunks = chunkText(text, 1000);
  assert.equal(chunks.join(''), text);
  for (const c of chunks) {
    assert.ok(Buffer.byteLength(c, 'utf8') <= 1000, `chunk of ${Buffer.byteLength(c)} bytes`);
    // A lone surrogate would re-encode as U+FFFD (3 bytes) and change the text.
    assert.equal(Buffer.from(c, 'utf8').toString('utf8'), c);
  }
  assert.ok(chunks.length >= Buffer.byteLength(text) / 1000);
  assert.deepEqual(chunkText(''), []);
});
