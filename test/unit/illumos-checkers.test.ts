/**
 * The illumos branch of every lab's checker (labs/<id>/check/illumos.ts), driven
 * end to end through `tracelab check --track illumos` on Linux with STAND-IN
 * `dtrace`, `gcore` and `mdb` executables on PATH. The real lab apps run (on this
 * host's node, standing in for Node 6.17.1 via TRACELAB_NODE6) and are really
 * requested, copied and timed; only what the tools print is canned: outputs
 * captured from the talk or constructed in the shape the lab's .d scripts and
 * mdb_v8 print (each canned output below says which). What this validates: the
 * branches call the tools as the steps do, parse what they print, and fail on
 * the buggy evidence and pass on the fixed evidence. What it cannot: that real
 * DTrace on illumos prints exactly this (never run here; see vm/README.md).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { copyLab, rmCopy, solve, tracelab, processesUsing } from '../lab/helpers';
import { CANNED, CANNED_MORE } from './illumos-standin-outputs';

const STANDIN = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelab-standins-'));
after(() => fs.rmSync(STANDIN, { recursive: true, force: true }));

// dtrace stand-in: prints the canned output for the script's name (from
// $STANDIN_CASE/<script>.<n>.out for its n-th run if there is one, else
// <script>.out); with -c it runs the command first, as dtrace -c
// does; with -p it traces until SIGINT/SIGTERM or the process is gone.
const DTRACE = `#!${process.execPath}
const fs = require('fs'), path = require('path'), cp = require('child_process');
const a = process.argv.slice(2); let script = '', cmd = '', pid = 0;
for (let i = 0; i < a.length; i++) { if (a[i] === '-s') script = a[++i]; else if (a[i] === '-c') cmd = a[++i]; else if (a[i] === '-p') pid = Number(a[++i]); }
fs.appendFileSync(path.join(process.env.STANDIN_CASE, 'calls.log'), JSON.stringify(['dtrace'].concat(a)) + '\\n');
const base = path.join(process.env.STANDIN_CASE, path.basename(script, '.d'));
const nth = fs.readFileSync(path.join(process.env.STANDIN_CASE, 'calls.log'), 'utf8').split('\\n').filter((l) => l.includes(JSON.stringify(script))).length;
const out = fs.existsSync(base + '.' + nth + '.out') ? base + '.' + nth + '.out' : base + '.out';
if (!fs.existsSync(out)) { process.stderr.write('dtrace: failed to compile script ' + script + ': stand-in has no output for it\\n'); process.exit(1); }
const canned = fs.readFileSync(out, 'utf8');
if (/Tracing\\.\\.\\./.test(fs.readFileSync(script, 'utf8'))) process.stdout.write('Tracing... Hit Ctrl-C to end.\\n');
let done = false;
const finish = () => { if (done) return; done = true; process.stdout.write(canned, () => process.exit(0)); };
if (cmd) {
  const w = cmd.split(' ');
  cp.spawn(w[0], w.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] }).on('exit', finish);
} else {
  process.on('SIGINT', finish); process.on('SIGTERM', finish);
  setInterval(() => { if (pid) { try { process.kill(pid, 0); } catch (e) { finish(); } } }, 100);
}
`;
// gcore stand-in: gcore -o PREFIX PID writes PREFIX.PID (a small file, not a core).
const GCORE = `#!/bin/sh
echo "[\\"gcore\\",\\"$1\\",\\"$2\\",\\"$3\\"]" >> "$STANDIN_CASE/calls.log"
printf 'stand-in core of %s\\n' "$3" > "$2.$3"
echo "gcore: $2.$3 dumped"
`;
// mdb stand-in: reads the dcmds on stdin, prints $STANDIN_CASE/jsconstructor.out
// for a ::jsconstructor session, else mdb.out.
const MDB = `#!/bin/sh
input=$(cat)
printf '["mdb","%s",%s]\\n' "$1" "$(printf '%s' "$input" | ${process.execPath} -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(0,"utf8")))')" >> "$STANDIN_CASE/calls.log"
case "$input" in
*::jsconstructor*) cat "$STANDIN_CASE/jsconstructor.out" ;;
*) cat "$STANDIN_CASE/mdb.out" ;;
esac
`;
for (const [name, text] of [['dtrace', DTRACE], ['gcore', GCORE], ['mdb', MDB]]) fs.writeFileSync(path.join(STANDIN, name), text, { mode: 0o755 });

interface Run {
  code: number | null;
  result: { passed: boolean; steps: { id: string; passed: boolean; message: string }[] } | null;
  calls: string[][];
  stderr: string;
}

/** `tracelab check <id> --track illumos --dir DIR --json` with the stand-ins and the canned outputs of `which`. */
function checkWithStandIns(id: string, dir: string, outputs: Record<string, string>): Run {
  const caseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelab-standin-case-'));
  try {
    for (const [name, text] of Object.entries(outputs)) fs.writeFileSync(path.join(caseDir, name), text);
    const r = tracelab(['check', id, '--track', 'illumos', '--dir', dir, '--json'], {
      env: {
        PATH: `${STANDIN}:${process.env.PATH}`,
        TRACELAB_ILLUMOS_STANDINS: STANDIN,
        TRACELAB_NODE6: process.execPath,
        STANDIN_CASE: caseDir,
      },
      timeout: 180000,
    });
    const log = path.join(caseDir, 'calls.log');
    const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]) : [];
    let result = null;
    try {
      result = JSON.parse(r.stdout);
    } catch {
      /* asserted by the caller through code/stderr */
    }
    return { code: r.code, result, calls, stderr: r.stderr };
  } finally {
    fs.rmSync(caseDir, { recursive: true, force: true });
  }
}

function step(r: Run, id: string) {
  const s = r.result?.steps.find((x) => x.id === id);
  assert.ok(s, `no step ${id} in ${JSON.stringify(r.result)} (exit ${r.code}, stderr ${r.stderr.slice(0, 800)})`);
  return s;
}

/** A step's `data` (what the portal draws), asserted present. */
function stepData(r: Run, id: string): unknown {
  const s = step(r, id) as { data?: unknown };
  assert.ok(s.data, `step ${id} has no data: ${JSON.stringify(s)}`);
  return s.data;
}

function answer(dir: string, answers: Record<string, string>): void {
  fs.mkdirSync(path.join(dir, '.tracelab'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.tracelab', 'answers.json'), JSON.stringify(answers));
}

/** Run `fn` on a fresh copy of the lab; the copy and every process in it are gone afterwards. */
async function withCopy(id: string, fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = copyLab(id);
  try {
    await fn(dir);
    assert.deepEqual(processesUsing(path.dirname(dir)), [], 'a process outlived the check');
  } finally {
    rmCopy(dir);
  }
}

test('off illumos without stand-ins, every lab\'s illumos check exits 3 with advice', async () => {
  for (const id of ['00-warm-up', '01-bug-hunt', '02-restify', '03-flame-graphs', '04-memory-leak', '05-post-mortem']) {
    await withCopy(id, (dir) => {
      const r = tracelab(['check', id, '--track', 'illumos', '--dir', dir], { env: { TRACELAB_ILLUMOS_STANDINS: '' } });
      assert.equal(r.code, 3, `${id}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /illumos lab box|vagrant up/, id);
    });
  }
});

test('stand-in dtrace: 00-warm-up illumos branch judges answers against syscount.d and server-latency.d', async () => {
  await withCopy('00-warm-up', (dir) => {
    let r = checkWithStandIns('00-warm-up', dir, CANNED.warmUp);
    assert.equal(r.code, 1);
    assert.match(step(r, 'busiest-syscall').message, /no answer yet/);
    const scripts = r.calls.filter((c) => c[0] === 'dtrace').map((c) => path.basename(c[c.indexOf('-s') + 1]));
    assert.deepEqual(scripts.sort(), ['server-latency.d', 'syscount.d']);
    assert.ok(r.calls.every((c) => c.includes('-p')), 'both scripts attach to the app with -p');

    answer(dir, { 'busiest-syscall': 'read', 'slowest-url': '/page.txt' });
    r = checkWithStandIns('00-warm-up', dir, CANNED.warmUp);
    assert.equal(r.code, 1);
    assert.match(step(r, 'busiest-syscall').message, /not 'read'/);
    assert.match(step(r, 'slowest-url').message, /not '\/page.txt'/);

    answer(dir, { 'busiest-syscall': 'mmap64', 'slowest-url': 'http://127.0.0.1:8080/page.txt.sum' });
    r = checkWithStandIns('00-warm-up', dir, CANNED.warmUp);
    assert.equal(r.code, 0, JSON.stringify(r.result));
    assert.match(step(r, 'slowest-url').message, /right: \/page\.txt\.sum/);
    // What the portal draws, in the Linux branch's shape: counts, and a histogram per URL.
    const counts = stepData(r, 'busiest-syscall') as { kind: string; items: [string, number][] };
    assert.equal(counts.kind, 'counts');
    assert.deepEqual(counts.items[0], ['mmap64', 53]);
    const lat = stepData(r, 'slowest-url') as { kind: string; items: { kind: string; title: string; unit: string; buckets: { low: number; high: number; count: number }[] }[] };
    assert.equal(lat.kind, 'histograms');
    assert.deepEqual(lat.items.map((h) => [h.kind, h.title, h.unit]), [
      ['histogram', '[/page.txt, 127.0.0.1]', 'us'],
      ['histogram', '[/page.txt.sum, 127.0.0.1]', 'us'],
      ['histogram', '[/echo-server.js, 127.0.0.1]', 'us'],
      ['histogram', '[/nothere, 127.0.0.1]', 'us'],
    ]);
    assert.deepEqual(lat.items[1].buckets, [{ low: 16384, high: 32768, count: 0 }, { low: 32768, high: 65536, count: 20 }, { low: 65536, high: 131072, count: 0 }]);
  });
});

test('stand-in dtrace: 01-bug-hunt illumos branch fails on the buggy trace and copy, passes on the fixed', async () => {
  await withCopy('01-bug-hunt', (dir) => {
    const buggy = checkWithStandIns('01-bug-hunt', dir, CANNED.bugHunt.buggy);
    assert.equal(buggy.code, 1, buggy.stderr);
    assert.equal(step(buggy, 'probes').passed, true);
    assert.match(step(buggy, 'fix').message, /chksum fired 5 time\(s\) before srcstream/);
    const call = buggy.calls[0];
    assert.equal(path.basename(call[call.indexOf('-s') + 1]), 'file_probes.d');
    assert.ok(call.includes('-Z'), 'fileapp probes do not exist before node starts: -Z');
    assert.match(call[call.indexOf('-c') + 1], /node file\.js$/);

    // The fixed trace alone is not enough: the buggy app's copy is still short.
    const lying = checkWithStandIns('01-bug-hunt', dir, CANNED.bugHunt.fixed);
    assert.equal(lying.code, 1);
    assert.match(step(lying, 'fix').message, /the copy is still wrong/);

    solve('01-bug-hunt', dir);
    const fixed = checkWithStandIns('01-bug-hunt', dir, CANNED.bugHunt.fixed);
    assert.equal(fixed.code, 0, JSON.stringify(fixed.result));
    assert.match(step(fixed, 'fix').message, /same md5/);

    const noProbes = checkWithStandIns('01-bug-hunt', dir, { 'file_probes.out': 'PROBE      ARG\n' });
    assert.equal(noProbes.code, 1);
    assert.match(step(noProbes, 'probes').message, /no rimraf, srcstream, chksum probe/);
  });
});

test('stand-in dtrace: 02-restify illumos branch fails on a slow loadTags histogram, passes on a flat one', async () => {
  await withCopy('02-restify', (dir) => {
    const buggy = checkWithStandIns('02-restify', dir, CANNED.restify.buggy);
    assert.equal(buggy.code, 1, buggy.stderr);
    assert.equal(step(buggy, 'probes').passed, true);
    assert.match(step(buggy, 'fix').message, /getfooname loadTags took 33 ms or more on 16 of 16 calls: over the 10 ms limit/);
    const call = buggy.calls[0];
    assert.equal(path.basename(call[call.indexOf('-s') + 1]), 'handler-timing.d');

    solve('02-restify', dir);
    const fixed = checkWithStandIns('02-restify', dir, CANNED.restify.fixed);
    assert.equal(fixed.code, 0, JSON.stringify(fixed.result));
    // The handlers' histograms, drawn as on Linux (buggy and fixed alike).
    for (const r of [buggy, fixed]) {
      const d = stepData(r, 'probes') as { kind: string; items: { title: string; unit: string; buckets: { low: number; high: number; count: number }[] }[] };
      assert.equal(d.kind, 'histograms');
      assert.deepEqual(d.items.map((h) => h.title), ['getfooname parseName', 'getfooname loadTags', 'getfooname greet', 'getping ping']);
      assert.ok(d.items.every((h) => h.unit === 'us'));
    }
    assert.deepEqual((stepData(buggy, 'fix') as { items: { buckets: unknown[] }[] }).items[1].buckets, [{ low: 16384, high: 32768, count: 0 }, { low: 32768, high: 65536, count: 16 }, { low: 65536, high: 131072, count: 0 }]);

    // CONSTRUCTED: slow on 5 calls of 16 (fewer than half: the median is fast), in the
    // [8192, 16384) us bucket (its low edge is under 10 ms, its high edge over): fails.
    const quantize = (rows: [number, number][]) =>
      `\n           value  ------------- Distribution ------------- count\n${rows.map(([v, n]) => `${String(v).padStart(16)} |${'@'.repeat(n * 2).padEnd(40)} ${n}`).join('\n')}\n`;
    const sometimes = checkWithStandIns('02-restify', dir, {
      'handler-timing.out': ['demo getfooname loadTags', quantize([[16, 0], [32, 11], [64, 0], [128, 0], [256, 0], [512, 0], [1024, 0], [2048, 0], [4096, 0], [8192, 5], [16384, 0]])].join('\n'),
    });
    assert.equal(sometimes.code, 1, JSON.stringify(sometimes.result));
    assert.match(step(sometimes, 'fix').message, /^getfooname loadTags took 8 ms or more on 5 of 16 calls: over the 10 ms limit on more than 1 call in 4/);

    const none = checkWithStandIns('02-restify', dir, { 'handler-timing.out': '\n' });
    assert.equal(none.code, 1);
    assert.match(step(none, 'probes').message, /saw no restify handler probes/);
  });
});

test('stand-in dtrace: 03-flame-graphs illumos branch times the apps for real and judges profile-97.d stacks', async (t) => {
  const { hot, flat } = CANNED_MORE.flameGraphs;
  await withCopy('03-flame-graphs', (dir) => {
    const buggy = checkWithStandIns('03-flame-graphs', dir, { 'profile-97.out': hot });
    assert.equal(buggy.code, 1, buggy.stderr);
    assert.match(step(buggy, 'faster').message, /only [0-9.]+x faster/);
    t.diagnostic(`buggy: ${step(buggy, 'faster').message}`);
    assert.match(step(buggy, 'flat-profile').message, /isNew is still innermost in 82% of samples/);
    assert.equal(buggy.calls.length, 2, 'the original and the copy are profiled');
    for (const c of buggy.calls) assert.equal(path.basename(c[c.indexOf('-s') + 1]), 'profile-97.d');
    // Both flame graphs, from the jstack() stacks, in the Linux branch's data shape.
    type Node = { n: string; v: number; c?: Node[] };
    const graphs = (r: Run) => (r.result!.steps.find((x) => x.id === 'flat-profile') as unknown as { data: { kind: string; items: { kind: string; title: string; root: Node }[] } }).data;
    const g = graphs(buggy);
    assert.equal(g.kind, 'flamegraphs');
    assert.deepEqual(g.items.map((x) => [x.kind, x.title]), [['flamegraph', "before: the lab's report.js (551 samples)"], ['flamegraph', 'after: your report.js (551 samples)']]);
    const find = (n: Node, name: string): Node | undefined => (n.n === name ? n : (n.c ?? []).map((c) => find(c, name)).find(Boolean));
    const root = g.items[0].root;
    assert.equal(root.v, 551);
    // Root first, as jstack() prints innermost first: report -> summarise -> isNew (position, not line, on Node 6).
    const report = root.c!.find((c) => c.n === 'report report.js@2500')!;
    assert.ok(report, JSON.stringify(root.c!.map((c) => c.n)));
    const isNew = find(report, 'isNew report.js@1567')!;
    assert.equal(isNew.v, 451);
    assert.deepEqual(isNew.c!.map((c) => c.n), ['<< internal code >>']);
    assert.equal(isNew.c![0].c![0].n, 'node`_ZN2v88internal7Runtime_Foo', 'the +0x offset is dropped: one function, one box');

    solve('03-flame-graphs', dir);
    const fixed = checkWithStandIns('03-flame-graphs', dir, { 'profile-97.1.out': hot, 'profile-97.2.out': flat });
    assert.equal(fixed.code, 0, JSON.stringify(fixed.result));
    assert.match(step(fixed, 'flat-profile').message, /isNew was innermost in 82% of samples before and is 4% now/);
    assert.deepEqual(graphs(fixed).items.map((x) => x.root.v), [551, 490]);
    t.diagnostic(`fixed: ${step(fixed, 'faster').message}`);
  });
});

test('stand-in dtrace: 04-memory-leak illumos branch runs the original and yours on the same work, judges real RSS, names mmap.d stacks', async (t) => {
  const { leaking, flat } = CANNED_MORE.memoryLeak;
  await withCopy('04-memory-leak', (dir) => {
    const buggy = checkWithStandIns('04-memory-leak', dir, { 'mmap.out': leaking });
    assert.equal(buggy.code, 1, buggy.stderr);
    assert.match(step(buggy, 'fixed').message, /RSS grew .* MB .*under renderPage \(leak2\.js line 22\)/);
    t.diagnostic(`buggy: ${step(buggy, 'fixed').message}`);
    // As the Linux branch: both apps, the same bounded work, one dtrace each (the original's first).
    assert.equal(buggy.calls.length, 2, JSON.stringify(buggy.calls));
    for (const c of buggy.calls) assert.equal(path.basename(c[c.indexOf('-s') + 1]), 'mmap.d');
    const plot = (r: Run) => ((r.result!.steps[0] as unknown as { data: { items: { title: string; series: { label: string; points: [number, number][] }[] }[] } }).data.items);
    const [rss] = plot(buggy);
    assert.equal(rss.title, 'RSS (ps)');
    assert.deepEqual(rss.series.map((x) => x.label), ['original', 'yours']);
    for (const x of rss.series) assert.ok(x.points.length >= 20, `${x.label}: ${x.points.length} RSS samples`);

    // Flat because it does no work: the served line differs from the original's.
    const src = path.join(dir, 'app', 'leak2.js');
    const shipped = fs.readFileSync(src, 'utf8');
    fs.writeFileSync(src, shipped.replace(/bytes \+= servePage\(\{[^\n]*\}\);/, 'bytes += 9000;'));
    assert.notEqual(fs.readFileSync(src, 'utf8'), shipped);
    const lazy = checkWithStandIns('04-memory-leak', dir, { 'mmap.1.out': leaking, 'mmap.2.out': flat });
    assert.equal(lazy.code, 1, JSON.stringify(lazy.result));
    assert.match(step(lazy, 'fixed').message, /served different pages: "served 6000 requests, 54000000 bytes", the original "served 6000 requests, \d+ bytes"/);

    solve('04-memory-leak', dir);
    const fixed = checkWithStandIns('04-memory-leak', dir, { 'mmap.1.out': leaking, 'mmap.2.out': flat });
    assert.equal(fixed.code, 0, JSON.stringify(fixed.result));
    assert.match(step(fixed, 'fixed').message, /^RSS grew -?[0-9.]+ MB \(the original: [0-9.]+ MB\); in the original, mmap\.d counted 12 mmaps under renderPage \(leak2\.js line 22\)$/);
    t.diagnostic(`fixed: ${step(fixed, 'fixed').message}`);
  });
});

test('stand-in gcore and mdb: 05-post-mortem illumos branch judges answers against ::findjsobjects, ::jsprint, -r', async () => {
  await withCopy('05-post-mortem', (dir) => {
    let r = checkWithStandIns('05-post-mortem', dir, CANNED_MORE.postMortem);
    assert.equal(r.code, 1);
    assert.match(step(r, 'order-count').message, /no answer yet/);
    assert.equal(r.calls.length, 0, 'no core is taken before there is an answer');

    answer(dir, { 'order-count': '185', 'coupon-code': 'TL-XXXX', 'coupon-holder': 'Cart' });
    r = checkWithStandIns('05-post-mortem', dir, CANNED_MORE.postMortem);
    assert.equal(r.code, 1);
    assert.equal(step(r, 'order-count').passed, false, 'two Order shapes: 185 + 15');
    assert.match(step(r, 'coupon-code').message, /is not what the core holds/);
    assert.equal(step(r, 'coupon-holder').passed, false);
    const [g, m1, m2] = r.calls;
    assert.equal(g[0], 'gcore');
    assert.equal(m1[0], 'mdb');
    assert.match(m1[2], /^::load v8\n/);
    assert.match(m1[2], /::findjsobjects -c Coupon \| ::findjsobjects \| ::jsprint/);
    assert.equal(m2[2].includes('8ff20031::jsconstructor'), true);
    assert.ok(!fs.existsSync(m1[1]), 'the core is deleted');

    answer(dir, { 'order-count': '200', 'coupon-code': '"TL-V4K8NH"', 'coupon-holder': 'Promotion objects' });
    r = checkWithStandIns('05-post-mortem', dir, CANNED_MORE.postMortem);
    assert.equal(r.code, 0, JSON.stringify(r.result));
  });
});
