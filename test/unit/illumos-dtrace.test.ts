// Parsers for dtrace aggregation output (src/check/illumos/dtrace.ts), run on real
// captures (test/unit/illumos-captures.ts says where each was printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseHistograms,
  histogramTotal,
  histogramMode,
  histogramPercentile,
  parseCounts,
  countsByKey,
  parseStacks,
  parseJsFrame,
  jsFrames,
  parseProbeList,
} from '../../src/check/illumos/dtrace';
import * as cap from './illumos-captures';

test('quantize as the talk printed systeme.d (tabs, no "|"): keys and every bucket', () => {
  const [h, ...rest] = parseHistograms(cap.TALK_SYSCALL_LATENCY);
  assert.equal(rest.length, 0);
  assert.deepEqual(h.keys, ['SYSCALL\tNSECS\t# OF OCCURANCES', 'read']);
  assert.equal(h.buckets.length, 19);
  assert.deepEqual(h.buckets[0], { value: 1024, count: 0 });
  assert.deepEqual(h.buckets[1], { value: 2048, count: 3 });
  assert.deepEqual(h.buckets[17], { value: 134217728, count: 1 });
  assert.equal(histogramTotal(h), 9);
  assert.equal(histogramMode(h)!.value, 2048);
  // 5 of 9 samples are at or below the 4096 bucket
  assert.equal(histogramPercentile(h, 0.5), 4096);
  assert.equal(histogramPercentile(h, 1), 134217728);
});

test('printa of two keyed quantize aggregations (server-latency.d): one histogram per remote address', () => {
  const hs = parseHistograms(cap.TALK_SERVER_LATENCY);
  assert.equal(hs.length, 2);
  assert.ok(hs[0].keys.some((k) => k.includes('165.225.154.77')), JSON.stringify(hs[0].keys));
  assert.ok(!hs[0].keys.some((k) => k.includes('dtrace -L')), 'the command line is not a key');
  assert.ok(hs[1].keys.some((k) => k.includes('83.79.36.187')));
  assert.equal(histogramTotal(hs[0]), 100);
  assert.equal(histogramMode(hs[0])!.value, 4096);
  assert.equal(histogramTotal(hs[1]), 100);
  assert.equal(histogramMode(hs[1])!.value, 16777216);
  assert.equal(hs[1].buckets[hs[1].buckets.length - 1].value, 67108864);
  // the remote client is ~4000x slower: what the talk's slide makes you see
  assert.ok(histogramPercentile(hs[1], 0.5) / histogramPercentile(hs[0], 0.5) >= 1024);
});

test('lquantize as dtrace prints it ("|" column, negative buckets): DTrace test suite output', () => {
  const hs = parseHistograms(cap.DOC_LQUANTIZE_TST);
  assert.deepEqual(hs.map((h) => h.keys), [['0'], ['100'], ['200']]);
  assert.deepEqual(hs[0].buckets, [
    { value: -100, count: 0 },
    { value: 0, count: 1 },
    { value: 100, count: 0 },
  ]);
  assert.equal(histogramMode(hs[2])!.value, 200);
});

test('lquantize keyed by execname (Oracle DTrace guide example)', () => {
  const hs = parseHistograms(cap.DOC_LQUANTIZE_FDS);
  assert.deepEqual(hs.map((h) => h.keys), [['gnome-session'], ['gnome-terminal']]);
  assert.equal(histogramTotal(hs[0]), 9);
  assert.equal(histogramTotal(hs[1]), 7);
  assert.equal(histogramMode(hs[1])!.value, 21);
});

test('lquantize "< N" and ">= N" rows (constructed input, not a capture: the format of dt_print_quantize)', () => {
  const [h] = parseHistograms('  x\n   value  --- Distribution --- count\n     < 0 |@@  2\n       0 |    0\n  >= 100 |@@@@ 4\n');
  assert.deepEqual(h.buckets, [
    { value: -Infinity, count: 2, label: '< 0' },
    { value: 0, count: 0 },
    { value: 100, count: 4, label: '>= 100' },
  ]);
});

test('count() aggregation of syscalls (the talk, lab 0): keys and values, dtrace chatter ignored', () => {
  const rows = parseCounts(cap.TALK_SYSCALL_COUNT);
  assert.deepEqual(
    rows.map((r) => [r.key, r.value]),
    [
      ['munmap', 31],
      ['portfs', 36],
      ['lwp_park', 37],
      ['fcntl', 39],
      ['mmap64', 53],
    ],
  );
  assert.equal(countsByKey(cap.TALK_SYSCALL_COUNT).get('mmap64'), 53);
});

test('count() keyed by a string with spaces (Solaris Dynamic Tracing Guide)', () => {
  const rows = parseCounts(cap.DOC_COUNT_WRITES);
  assert.deepEqual(rows.map((r) => [r.key, r.value]), [['write system calls', 179]]);
});

test('parseCounts skips histogram rows so a mixed output gives only scalar rows', () => {
  assert.deepEqual(parseCounts(cap.DOC_LQUANTIZE_TST).map((r) => r.key), []);
});

test('jstack() frames as the talk printed them (lab 4): JS file and line found', () => {
  // seed lines 975 and 981, the only JS frames the talk printed whole
  const f = parseJsFrame('run at /home/student/nodeconf/leak2.js line 15');
  assert.deepEqual(f, { fn: 'run', file: '/home/student/nodeconf/leak2.js', line: 15 });
  assert.equal(parseJsFrame('libc.so.1`mmap+0x15'), null);
  assert.equal(parseJsFrame('node`_ZN2v88internal15MemoryAllocator20ReserveAlignedMemoryEjjP'), null);
});

test('stack aggregation blocks end at the count line (talk lab 4 frames, joined as dtrace prints one stack)', () => {
  // The talk cut this stack across slides; its frames, in dtrace's layout, are the input.
  const text = [
    '',
    '              libc.so.1`mmap+0x15',
    '              node`_ZN2v88internal15MemoryAllocator20ReserveAlignedMemoryEjjPNS0_13VirtualMemoryE+0x2a',
    '              run at /home/student/nodeconf/leak2.js line 15',
    '            12',
    '',
  ].join('\n');
  const [s, ...rest] = parseStacks(text);
  assert.equal(rest.length, 0);
  assert.equal(s.count, 12);
  assert.equal(s.frames.length, 3);
  assert.deepEqual(jsFrames(s).map((f) => `${f.file}:${f.line}`), ['/home/student/nodeconf/leak2.js:15']);
});

test('dtrace -l listing (constructed input, not captured): 5 columns, and 3 when module/function are blank', () => {
  // Constructed in dtrace -l's documented layout (ID PROVIDER MODULE FUNCTION NAME),
  // not captured from an illumos machine: the BEGIN row has blank module/function.
  const list = parseProbeList(
    '   ID   PROVIDER            MODULE                          FUNCTION NAME\n' +
      '    1     dtrace                                                     BEGIN\n' +
      '71883 fileapp1234  libusdt       usdt_fire       chksum\n',
  );
  assert.deepEqual(list, [
    { id: 1, provider: 'dtrace', module: '', func: '', name: 'BEGIN' },
    { id: 71883, provider: 'fileapp1234', module: 'libusdt', func: 'usdt_fire', name: 'chksum' },
  ]);
});
