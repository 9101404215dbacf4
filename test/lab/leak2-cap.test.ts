/**
 * Lab 4's leak2.js bounds itself: past --max-cache-mb (default 300) of cached pages it
 * caches no more, says so once, and keeps serving the same responses. Without the cap
 * a run left going at the steps' --rate 500 would reach node's heap limit within the
 * hour. The heap is measured after full GCs while it serves, so only what stays reachable counts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { DEFAULT_LABS_ROOT, DEFAULT_SOLUTIONS_ROOT } from '../../src/labs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelab-leak2-cap-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const probe = path.join(tmp, 'heap-at-exit.js');
// The largest heap after a full GC while the app serves (at exit its cache is already
// unreachable: the cleared interval held the last reference to the module's functions).
fs.writeFileSync(
  probe,
  "var max = 0; setInterval(function () { global.gc(); max = Math.max(max, process.memoryUsage().heapUsed); }, 50).unref();\n" +
    "process.on('exit', function () { process.stdout.write('heapUsed ' + max + '\\n'); });\n",
);

function run(file: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--expose-gc', '-r', probe, file, '--rate', '5000', ...args], { cwd: tmp, encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, `${file} ${args.join(' ')}: ${r.stderr}`);
  const heap = /^heapUsed (\d+)$/m.exec(r.stdout);
  assert.ok(heap, r.stdout);
  return { stdout: r.stdout, stderr: r.stderr, heapMb: Number(heap[1]) / 1048576, served: /^served .*$/m.exec(r.stdout)?.[0] };
}

const LEAK2 = path.join(DEFAULT_LABS_ROOT, '04-memory-leak', 'app', 'leak2.js');

test('leak2.js stops caching at --max-cache-mb, says so once, and serves the same responses', () => {
  const capped = run(LEAK2, ['--requests', '3000', '--max-cache-mb', '5']);
  const free = run(LEAK2, ['--requests', '3000', '--max-cache-mb', '1000']);
  // Control: without the cap the same requests keep ~28 MB of pages.
  assert.ok(free.heapMb > 20, `uncapped heap ${free.heapMb.toFixed(1)} MB: the leak is gone, the cap is untested`);
  assert.equal(free.stderr, '', 'no note below the cap');
  assert.ok(capped.heapMb < 5 + 8, `capped at 5 MB, the heap keeps ${capped.heapMb.toFixed(1)} MB`);
  const notes = capped.stderr.match(/^leak2\.js: 5 MB of pages cached after (\d+) requests: caching no more/gm) ?? [];
  assert.equal(notes.length, 1, capped.stderr);
  const at = Number(/after (\d+) requests/.exec(notes[0])![1]);
  assert.ok(at > 400 && at < 700, `the cap hit after ${at} requests (~10 KB a page: ~520)`);
  assert.equal(capped.served, 'served 3000 requests, 30512000 bytes');
  assert.equal(capped.served, free.served, 'the cap changes no response');
});

test('leak2.js: the cap defaults to 300 MB, in the lab and its solution alike', () => {
  for (const f of [LEAK2, path.join(DEFAULT_SOLUTIONS_ROOT, '04-memory-leak', 'app', 'leak2.js')]) {
    assert.match(fs.readFileSync(f, 'utf8'), /^var MAX_CACHE_BYTES = option\('--max-cache-mb', 300\) \* 1048576;$/m, f);
  }
  // The solution caches one page per route: far below any cap.
  const solved = run(path.join(DEFAULT_SOLUTIONS_ROOT, '04-memory-leak', 'app', 'leak2.js'), ['--requests', '3000', '--max-cache-mb', '1']);
  assert.equal(solved.stderr, '');
  assert.equal(solved.served, 'served 3000 requests, 30512000 bytes');
});
