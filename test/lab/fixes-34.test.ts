/**
 * Lab 4: fixes that only hide the symptom must fail with a message saying why. Flat
 * memory is easy for an app that does not do the work; the checker runs the original
 * and the student's app on the same bounded work (--requests) and both must end with
 * the same "served N requests, B bytes" line. Each case edits a throwaway copy of the
 * lab and runs the real checker (as test/lab/fixes.test.ts does for labs 0-2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { runCheck } from '../../src/check/run';
import { checkedLabs, copyLab, rmCopy, solve, processesUsing, editFile } from './helpers';

const LAB = '04-memory-leak';
const skip = !checkedLabs().includes(LAB);

async function judge(edit: (dir: string) => void, labsRoot?: (dir: string) => string) {
  const dir = copyLab(LAB);
  try {
    edit(dir);
    const r = await runCheck(LAB, { dir, track: 'linux', timeoutMs: 90000, labsRoot: labsRoot?.(dir) });
    assert.deepEqual(processesUsing(path.dirname(dir)), [], 'processes outlived the check');
    const step = r.steps.find((s) => s.id === 'fixed');
    assert.ok(step, JSON.stringify(r.steps));
    return { r, step };
  } finally {
    rmCopy(dir);
  }
}

const app = (dir: string) => path.join(dir, 'app', 'leak2.js');
/** The request line of tick(): every request is served through servePage. */
const SERVE = /bytes \+= servePage\(\{ url: route \+ '\?session=' \+ served, user: 'user' \+ \(served % 97\) \}\);/;

test('lab 4: an app that counts requests but never calls servePage fails: it served different pages', { skip }, async () => {
  const { r, step } = await judge((dir) => editFile(app(dir), SERVE, 'bytes += 9000;'));
  assert.equal(r.passed, false);
  assert.match(step.message, /^your app\/leak2\.js served different pages: "served 6000 requests, 54000000 bytes", the original "served 6000 requests, \d+ bytes"/);
  assert.match(step.evidence ?? '', /^served: original "served 6000 requests, \d+ bytes", yours "served 6000 requests, 54000000 bytes"$/m);
});

test('lab 4: an app that never prints its served line fails: it served fewer requests', { skip }, async () => {
  const { r, step } = await judge((dir) => {
    editFile(app(dir), SERVE, 'bytes += 0;');
    editFile(app(dir), "console.log('served ' + served + ' requests, ' + bytes + ' bytes');", '');
  });
  assert.equal(r.passed, false);
  assert.match(step.message, /^your app\/leak2\.js served fewer requests: it never printed "served 6000 requests, \d+ bytes"/);
});

test('lab 4: an app that stops after a few requests fails: it served fewer requests', { skip }, async () => {
  const { r, step } = await judge((dir) => {
    solve(LAB, dir);
    editFile(app(dir), "var REQUESTS = option('--requests', Infinity);", "var REQUESTS = Math.min(option('--requests', Infinity), 300);");
  });
  assert.equal(r.passed, false);
  assert.match(step.message, /^your app\/leak2\.js served fewer requests: "served 300 requests, \d+ bytes", the original "served 6000 requests, \d+ bytes"/);
});

test('lab 4: when the original does not grow on this machine, a flat app is not judged a pass', { skip }, async () => {
  // A labs root whose "original" is the fixed app: nothing here leaks.
  const { r, step } = await judge(
    (dir) => {
      solve(LAB, dir);
      const root = path.join(path.dirname(dir), 'labs');
      fs.cpSync(dir, path.join(root, LAB), { recursive: true });
    },
    (dir) => path.join(path.dirname(dir), 'labs'),
  );
  assert.equal(r.passed, false);
  assert.match(step.message, /^cannot judge on this machine: the lab's original grew only -?[0-9.]+ MB RSS serving the same 6000 requests/);
});
