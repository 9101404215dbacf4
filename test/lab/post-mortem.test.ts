/**
 * Lab 5's checker beyond pass/fail (test/lab/checkers.test.ts has those): it judges
 * each answer against its own core, that core is small and gone afterwards, and lldb
 * reads it through a cached copy of node without debug info, the same copy that
 * scripts/setup.d/40-llnode.sh makes ahead of the first check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { runCheck, answersFile } from '../../src/check/run';
import { lldbExecutable } from '../../src/check/llnode';
import { which } from '../../src/check/proc';
import { INSTALL_ROOT } from '../../src/labs';
import { checkedLabs, copyLab, rmCopy, solve, processesUsing } from './helpers';

const LAB = '05-post-mortem';
const skip = !checkedLabs().includes(LAB) ? 'lab 5 is not here' : !which('objcopy') ? 'no objcopy' : false;

function readelf(args: string[], file: string): string {
  return spawnSync('readelf', [...args, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout;
}
const buildId = (file: string) => /Build ID: ([0-9a-f]+)/.exec(readelf(['-n'], file))?.[1];

/** Run fn with TRACELAB_LLNODE_CACHE set, restoring it after. */
async function withCache<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const old = process.env.TRACELAB_LLNODE_CACHE;
  process.env.TRACELAB_LLNODE_CACHE = dir;
  try {
    return await fn();
  } finally {
    if (old === undefined) delete process.env.TRACELAB_LLNODE_CACHE;
    else process.env.TRACELAB_LLNODE_CACHE = old;
  }
}

test('lab 5: each answer is judged against a small core of its own, deleted afterwards', { skip }, async () => {
  const dir = copyLab(LAB);
  const before = new Set(fs.readdirSync(os.tmpdir()));
  try {
    solve(LAB, dir);
    const answers = JSON.parse(fs.readFileSync(answersFile(dir), 'utf8'));
    const right = answers['coupon-code'];
    answers['coupon-code'] = 'TL-NOTIT';
    fs.writeFileSync(answersFile(dir), JSON.stringify(answers));
    const logs: string[] = [];
    const r = await runCheck(LAB, { dir, track: 'linux', timeoutMs: 90000, log: (m) => logs.push(m) });
    const by = Object.fromEntries(r.steps.map((s) => [s.id, s]));
    assert.equal(r.passed, false);
    assert.equal(by['order-count'].passed, true, by['order-count'].message);
    assert.equal(by['coupon-holder'].passed, true, by['coupon-holder'].message);
    assert.equal(by['coupon-code'].passed, false);
    assert.match(by['coupon-code'].message, /"TL-NOTIT" is not what the core holds/);
    assert.ok(!by['coupon-code'].message.includes(right), 'the failure message gives the right code away');

    // gcore writes reserved mappings too: without SMALL_CORE this core is ~630 MB.
    const mb = Number(/reading (\d+) MB/.exec(logs.join('\n'))?.[1]);
    assert.ok(mb > 0 && mb < 100, `the checker's core is ${mb} MB: ${logs.join(' | ')}`);
    const left = fs.readdirSync(os.tmpdir()).filter((f) => !before.has(f) && f.startsWith(`tracelab-check-${LAB}-`));
    assert.deepEqual(left, [], 'the scratch dir (and its core) outlived the check');
    assert.deepEqual(processesUsing(dir), [], 'processes outlived the check');
  } finally {
    rmCopy(dir);
  }
});

test('lab 5: lldb gets node without DWARF, made once by setup or the first check, renewed with node', { skip }, async () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelab-llnode-cache-'));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelab-llnode-scratch-'));
  const node = fs.realpathSync(process.execPath);
  try {
    const setup = spawnSync('bash', [path.join(INSTALL_ROOT, 'scripts', 'setup.d', '40-llnode.sh')], {
      encoding: 'utf8',
      env: { ...process.env, ROOT: INSTALL_ROOT, TRACELAB_LLNODE_CACHE: cache },
    });
    assert.equal(setup.status, 0, setup.stderr + setup.stdout);
    const made = fs.readdirSync(cache).filter((f) => f.startsWith('node-'));
    assert.equal(made.length, 1, `setup made ${JSON.stringify(made)}`);

    // The checker finds setup's copy by the same name and does not make another.
    const ino = fs.statSync(path.join(cache, made[0])).ino;
    const exe = await withCache(cache, () => lldbExecutable(node, scratch));
    assert.equal(exe, path.join(cache, made[0]));
    assert.equal(fs.statSync(exe).ino, ino, 'the copy was made again');
    assert.doesNotMatch(readelf(['-SW'], exe), /\.debug_info/);
    assert.ok(buildId(exe) && buildId(exe) === buildId(node), 'lldb matches the core to the copy by build id');
    assert.match(readelf(['-W', '--dyn-syms'], exe), /v8dbg_type_JSObject__JS_OBJECT_TYPE/, "llnode's V8 metadata symbols are kept");

    // Another node at that path (another size or mtime): a new copy, the old one removed;
    // copies of other node binaries stay.
    const tag = made[0].split('-')[1];
    fs.renameSync(exe, path.join(cache, `node-${tag}-1-1`));
    fs.writeFileSync(path.join(cache, 'node-ffffffff-1-1'), '');
    const again = await withCache(cache, () => lldbExecutable(node, scratch));
    assert.equal(again, exe);
    assert.deepEqual(fs.readdirSync(cache).sort(), [made[0], 'node-ffffffff-1-1'].sort());
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});

test('lab 5: with no usable cache dir, the copy goes to the check\'s scratch dir', { skip }, async () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tracelab-llnode-scratch-'));
  try {
    // A path under a regular file cannot be made, even by root.
    const exe = await withCache(path.join(scratch, 'a-file', 'cache'), async () => {
      fs.writeFileSync(path.join(scratch, 'a-file'), '');
      return lldbExecutable(process.execPath, scratch);
    });
    assert.equal(path.dirname(exe), scratch);
    assert.match(path.basename(exe), /^node-[0-9a-f]{8}-\d+-\d+$/);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});
