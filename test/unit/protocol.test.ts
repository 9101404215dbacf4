import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MSG, PROTO_ERR, decodeControl, encodeControl, clampSize, chunkText, checkInputFrame, MAX_CONTROL_BYTES, MAX_INPUT_FRAME, SIZE } from '../../portal/shared/protocol';

test('every control message round-trips through encode/decode', () => {
  const msgs = [
    { t: MSG.RESIZE, cols: 120, rows: 40 },
    { t: MSG.PAUSE },
    { t: MSG.RESUME },
    { t: MSG.PING, n: 7 },
    { t: MSG.PONG, n: 7 },
    { t: MSG.ERROR, code: 'X', message: 'y' },
    { t: MSG.EXIT, code: 0 },
    { t: MSG.STATUS, state: 'attached', track: 'linux' },
  ] as const;
  for (const m of msgs) {
    const d = decodeControl(encodeControl(m as any));
    assert.ok(d.ok, JSON.stringify(m));
    assert.deepEqual(JSON.parse(JSON.stringify(d.msg)), m);
  }
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
