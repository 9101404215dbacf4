/**
 * The data behind labs 3-5's pictures and verdicts, on output captured from the real
 * tools on this machine: bpftrace and perf stacks folded by lab 3's stackfold.js,
 * flame graph trees and hot-frame shares, mmap stack maps, RSS growth, llnode output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { DEFAULT_LABS_ROOT } from '../../src/labs';
import { parseFolded, appSelfShares, flameTree, totalSamples, functionName } from '../../src/check/flamegraph';
import { parseStackMap, byAppFrame } from '../../src/check/ustack';
import { growth } from '../../src/check/rss';
import { parseFindJsObjects, parseInspect, parseFindRefs } from '../../src/check/llnode';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const stackfold = require(path.join(DEFAULT_LABS_ROOT, '03-flame-graphs', 'linux', 'stackfold.js')) as {
  fold(text: string): Record<string, number>;
  cleanFrame(raw: string): string;
};

// bpftrace ustack(perf) output (profile-97.bt on app/report.js), two samples of the
// same function in two V8 tiers at two offsets: they must fold into ONE stack.
const BPFTRACE = `Attaching 4 probes...
Tracing pid 11012 for 5 s... Hit Ctrl-C to end.
@[
	7ff9877eb725 JS:*Visitors.isNew /work/ws/03-flame-graphs/app/report.js:53:37+229 (/tmp/perf-11012.map)
	7ff9877eca3b JS:*summarise /work/ws/03-flame-graphs/app/report.js:66:19+2043 (/tmp/perf-11012.map)
	18ce0dc Builtins_JSEntryTrampoline+92 (/usr/bin/node)
	10494db v8::internal::(anonymous namespace)::Invoke(v8::internal::Isolate*, v8::internal::(anonymous namespace)::InvokeParams const&)+299 (/usr/bin/node)
]: 78
@[
	7ff9877e93c0 JS:~Visitors.isNew /work/ws/03-flame-graphs/app/report.js:53:37+4 (/tmp/perf-11012.map)
	7ff9877eca3b JS:^summarise /work/ws/03-flame-graphs/app/report.js:66:19+17 (/tmp/perf-11012.map)
	18ce0dc Builtins_JSEntryTrampoline+92 (/usr/bin/node)
	10494db v8::internal::(anonymous namespace)::Invoke(v8::internal::Isolate*, v8::internal::(anonymous namespace)::InvokeParams const&)+299 (/usr/bin/node)
]: 30
@[
	7f919be4a803 0x7f919be4a803 ([unknown])
	7ff9877eca3b JS:*summarise /work/ws/03-flame-graphs/app/report.js:66:19+1959 (/tmp/perf-11012.map)
	18ce0dc Builtins_JSEntryTrampoline+92 (/usr/bin/node)
]: 5
`;

// perf script -F comm,pid,tid,time,event,ip,sym,dso
const PERF = `node 16143/16143  1159.507218: cpu-clock:ppp:
	    7f850c02a36a JS:*Visitors.isNew /work/ws/03-flame-graphs/app/report.js:53:37 (/tmp/perf-16143.map)
	    7f850c02b2e7 JS:*summarise /work/ws/03-flame-graphs/app/report.js:66:19 (/tmp/perf-16143.map)

node 16143/16143  1159.517527: cpu-clock:ppp:
	    7f850c02a36a JS:~Visitors.isNew /work/ws/03-flame-graphs/app/report.js:53:37 (/tmp/perf-16143.map)
	    7f850c02b2e7 JS:*summarise /work/ws/03-flame-graphs/app/report.js:66:19 (/tmp/perf-16143.map)

`;

test('stackfold folds bpftrace stacks root-first, one box per function whatever its V8 tier or offset', () => {
  const f = stackfold.fold(BPFTRACE);
  assert.deepEqual(f, {
    'v8::internal::(anonymous namespace)::Invoke;Builtins_JSEntryTrampoline;summarise report.js:66;Visitors.isNew report.js:53': 108,
    'Builtins_JSEntryTrampoline;summarise report.js:66;[unknown]': 5,
  });
});

test('stackfold reads perf script output the same way', () => {
  assert.deepEqual(stackfold.fold(PERF), { 'summarise report.js:66;Visitors.isNew report.js:53': 2 });
});

test('stackfold --stackvis writes the comma-separated frames stackvis 0.5 reads, and the SVG has every frame', () => {
  {
    const input = BPFTRACE + '@[\n\t153bf9a f<a, b>(int)+1 (/usr/bin/node)\n]: 2\n';
    const script = path.join(DEFAULT_LABS_ROOT, '03-flame-graphs', 'linux', 'stackfold.js');
    const r = spawnSync(process.execPath, [script, '--stackvis'], { input, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.split('\n').includes('f<a b> 2'), 'a comma inside a frame becomes a space');
    assert.ok(r.stdout.includes('Builtins_JSEntryTrampoline,summarise report.js:66,Visitors.isNew report.js:53 108'));
    const stackvis = path.join(DEFAULT_LABS_ROOT, 'node_modules', '.bin', 'stackvis');
    if (!fs.existsSync(stackvis)) return; // labs' npm deps not installed: the fold is still checked above
    const svg = spawnSync(stackvis, ['collapsed', 'flamegraph-svg'], { input: r.stdout, encoding: 'utf8' });
    assert.equal(svg.status, 0, svg.stderr);
    assert.match(svg.stdout, /Visitors\.isNew report\.js:53/);
    assert.doesNotMatch(svg.stdout, /Trampoline,summarise/, 'frames are separate boxes, not one long name');
  }
});

test('stackfold drops C++ argument lists, const and clone suffixes, but keeps namespaces', () => {
  assert.equal(
    stackfold.cleanFrame('153bf9a v8::internal::StringTable::Data::FindEntry<v8::internal::Isolate>(v8::internal::Isolate*, unsigned int) const [clone .isra.0]+12 (/usr/bin/node)'),
    'v8::internal::StringTable::Data::FindEntry<v8::internal::Isolate>',
  );
  assert.equal(stackfold.cleanFrame('JS:~ node:internal/main/run_main_module:1:1+220'), '(anonymous) node:internal/main/run_main_module:1');
});

test('the hot function is the deepest app frame of most samples; the tree prunes slivers', () => {
  const folded = parseFolded(
    Object.entries(stackfold.fold(BPFTRACE))
      .map(([k, v]) => `${k} ${v}`)
      .join('\n') + '\nstart_thread;v8::internal::Heap::Scavenge 1\n',
  );
  assert.equal(totalSamples(folded), 114);
  const shares = appSelfShares(folded, (f) => / report\.js:\d+$/.test(f));
  assert.equal(shares[0].name, 'Visitors.isNew');
  assert.equal(shares[0].samples, 108);
  assert.equal(shares.find((s) => s.name === 'summarise')?.samples, 5, 'an [unknown] leaf counts for its JS caller');
  assert.equal(functionName('Visitors.isNew report.js:53'), 'Visitors.isNew');

  const tree = flameTree(folded, 'before', 0.02);
  assert.equal(tree.root.v, 114);
  assert.deepEqual(tree.root.c?.map((c) => c.n), ['Builtins_JSEntryTrampoline', 'v8::internal::(anonymous namespace)::Invoke'], 'the 1-sample GC stack (<2%) is pruned');
});

// mmap.bt on app/leak2.js (trimmed), plus a reservation with no JS frame.
const MMAP = `Attaching 4 probes...
Tracing mmap by pid 17694 for 2 s... Hit Ctrl-C to end.
@bytes[
	7ffa6c04dfb2 JS:*servePage /w/04-memory-leak/app/leak2.js:32:19+434 (/tmp/perf-17694.map)
	7ffa6c04e6d8 JS:*tick /w/04-memory-leak/app/leak2.js:44:14+1496 (/tmp/perf-17694.map)
]: 462848
@bytes[
	7ffa6c04a72b JS:*renderPage /w/04-memory-leak/app/leak2.js:20:20+1131 (/tmp/perf-17694.map)
	7ffa6c04df92 JS:*servePage /w/04-memory-leak/app/leak2.js:32:19+402 (/tmp/perf-17694.map)
	7ffa6c04e6d8 JS:*tick /w/04-memory-leak/app/leak2.js:44:14+1496 (/tmp/perf-17694.map)
]: 6242304
@bytes[
	7ffa6c04a72b JS:*renderPage /w/04-memory-leak/app/leak2.js:20:20+1131 (/tmp/perf-17694.map)
	7ffa6c04df92 JS:*servePage /w/04-memory-leak/app/leak2.js:32:19+402 (/tmp/perf-17694.map)
	7ffa6c04b360 JS:^tick /w/04-memory-leak/app/leak2.js:44:14+672 (/tmp/perf-17694.map)
]: 16646144
@bytes[
	7f1c2d3e4f50 mmap64+32 (/usr/lib/x86_64-linux-gnu/libc.so.6)
]: 134217728
`;

test('mmap stacks sum bytes by the deepest app function and its callers', () => {
  const entries = parseStackMap(MMAP);
  assert.equal(entries.length, 4);
  assert.equal(entries[1].frames[0], 'renderPage /w/04-memory-leak/app/leak2.js:20:20');
  const by = byAppFrame(entries, (f) => / \S*leak2\.js:\d+(:\d+)?$/.test(f));
  assert.equal(by[0].chain, 'renderPage <- servePage <- tick');
  assert.equal(by[0].value, 6242304 + 16646144);
  assert.equal(by[0].fn, 'renderPage');
  assert.equal(by.length, 2, 'the reservation without a JS frame is not attributed');
});

test('growth compares the peaks of a late window with an early one', () => {
  const flat: [number, number][] = [];
  const rising: [number, number][] = [];
  for (let i = 0; i <= 40; i++) {
    const t = i / 10;
    flat.push([t, t < 0.8 ? 20 + 30 * t : 44 + (i % 3)]);
    rising.push([t, 20 + 25 * t]);
  }
  assert.equal(growth(flat, 1, 0.6), 0);
  assert.equal(growth(rising, 1, 0.6), 62.5, "120 MB at 4 s minus 57.5 MB at 1.5 s");
  assert.equal(growth(flat.slice(0, 12), 1, 0.6), null, 'too short a run is not judged');
});

test('llnode output: findjsobjects counts, inspect properties, findrefs holders', () => {
  const objects = parseFindJsObjects(` Instances  Total Size Name
 ---------- ---------- ----
          1        104 Coupon
         12        576 Cart
         49       1928 
        303      16968 Order
      11738      34296 (String)
 ---------- ---------- 
      13724     140216 `);
  assert.equal(objects.get('Order'), 303);
  assert.equal(objects.get('Coupon'), 1);
  assert.equal(objects.get('(String)'), 11738);
  const props = parseInspect(`0x155b96471221:<Object: Coupon properties {
    .code=0x155b964710f9:<String: "TL-V4K8NH">,
    .percent=<Smi: 30>}>`);
  assert.equal(props.get('code'), 'TL-V4K8NH');
  assert.equal(props.get('percent'), '30');
  assert.deepEqual(parseFindRefs('0x155b96470e69: Promotion.coupon=0x155b96471221\n'), ['Promotion.coupon']);
});
