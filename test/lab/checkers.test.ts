/**
 * Every lab's checker, for real (bpftrace against node): the lab as shipped must
 * fail with the diagnosis in solutions/<id>/expected-failure.json, and the lab with
 * its solution applied must pass. Labs are found from the filesystem.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runCheck } from '../../src/check/run';
import { checkedLabs, copyLab, rmCopy, solve, expectedFailure, processesUsing } from './helpers';

const TIMEOUT_MS = 90000;

for (const id of checkedLabs()) {
  describe(`lab ${id}`, () => {
    test('as shipped, the check fails with the expected diagnosis', async () => {
      const dir = copyLab(id);
      try {
        const r = await runCheck(id, { dir, track: 'linux', timeoutMs: TIMEOUT_MS });
        assert.equal(r.passed, false, `the unsolved lab passed: ${JSON.stringify(r.steps, null, 1)}`);
        const want = expectedFailure(id);
        assert.ok(want, `solutions/${id}/expected-failure.json is missing`);
        const step = r.steps.find((s) => s.id === want.step);
        assert.ok(step, `no result for step ${want.step}: ${JSON.stringify(r.steps.map((s) => s.id))}`);
        assert.equal(step.passed, false);
        assert.match(step.message, new RegExp(want.message), `step ${want.step} said: ${step.message}`);
        assert.ok(step.evidence && step.evidence.length > 0, 'a failure keeps evidence');
        assert.deepEqual(processesUsing(dir), [], 'processes outlived the check');
      } finally {
        rmCopy(dir);
      }
    });

    test('with the solution applied, the check passes', async () => {
      const dir = copyLab(id);
      try {
        solve(id, dir);
        const r = await runCheck(id, { dir, track: 'linux', timeoutMs: TIMEOUT_MS });
        const failed = r.steps.filter((s) => !s.passed).map((s) => `${s.id}: ${s.message}\n${s.evidence ?? ''}`);
        assert.deepEqual(failed, [], 'steps failed on the solved lab');
        assert.equal(r.passed, true);
        for (const s of r.steps) assert.ok(s.message, `step ${s.id} has a message`);
        assert.deepEqual(processesUsing(dir), [], 'processes outlived the check');
      } finally {
        rmCopy(dir);
      }
    });
  });
}
