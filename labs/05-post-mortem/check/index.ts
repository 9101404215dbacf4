/**
 * Lab 5 checker: the student's answers about the shop's heap must match what the
 * checker reads from a fresh core it takes itself: gcore of app/shop.js running from
 * the student's directory (the shop's contents derive from the host and directory, so
 * it is the same shop the student looked at), opened with lldb + llnode. The core
 * (~30 MB: see SMALL_CORE) is deleted before the check returns, whatever happens.
 *
 * Limit, by design: the answers are not only in a core. The shop is a pure function
 * of host name and directory (app/shop.js's openShop(seedText(dir))), so reading the
 * app computes them without one (solutions/05-post-mortem/solve.sh does), and the
 * check proves the answers match the shop, not that the student read a core. Making
 * them core-only (a random seed kept in memory, the checker gcoring the student's own
 * process by a pid file) would mean a ~630 MB core of the student's unflagged node per
 * check (SMALL_CORE needs the checker to start the app), a check that fails whenever
 * the app is not running, and a solve.sh that drives gcore + lldb itself.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CheckEnvironmentError, type LabChecker, type StepResult } from '../../../src/check/types';
import { spawnGroup, waitForOutput, which } from '../../../src/check/proc';
import { normalizeAnswer } from '../../../src/check/answers';
import { requirePostMortem, takeCore, llnodeScript, parseFindJsObjects, parseInspect, parseFindRefs, SMALL_CORE } from '../../../src/check/llnode';
import { checkIllumos } from './illumos';

const APP = path.join('app', 'shop.js');
const QUESTIONS = ['order-count', 'coupon-code', 'coupon-holder'];

// Runs inside lldb: one session, because loading a core takes seconds.
const DRIVER = `
def main(run):
    out = {'objects': run('v8 findjsobjects')}
    inst = run('v8 findjsinstances Coupon')
    out['instances'] = inst
    m = re.search(r'(0x[0-9a-f]+):<Object: Coupon', inst)
    if m:
        out['inspect'] = run('v8 inspect ' + m.group(1))
        out['refs'] = run('v8 findrefs -v ' + m.group(1))
    return out
`;

interface Truth {
  orders: number | undefined;
  code: string | undefined;
  holders: string[];
  evidence: string;
}

async function readTheCore(node: string, dir: string, scratch: string, log: (m: string) => void): Promise<Truth> {
  // SMALL_CORE: the same shop in a core of ~30 MB instead of ~630 MB (what the student's
  // own `node app/shop.js` gives): a faster gcore, and a check that does not fill a disk.
  const app = spawnGroup(node, [...SMALL_CORE.nodeArgs, path.join(dir, APP)], { cwd: scratch, env: { ...process.env, ...SMALL_CORE.env }, maxOutputBytes: 64 * 1024 });
  let core: string | null = null;
  try {
    await waitForOutput(app, (o) => /shop open/.test(o), 10_000, 'app/shop.js to print "shop open"');
    log(`taking a core of pid ${app.pid}`);
    core = await takeCore(app.pid, scratch, 30_000);
    await app.stop();
    log(`reading ${(fs.statSync(core).size / 1048576).toFixed(0)} MB with lldb + llnode`);
    const r = (await llnodeScript({ node, core, driverBody: DRIVER, scratch, timeoutMs: 45_000, log })) as Record<string, string>;
    if (r.error) throw new Error(`the llnode driver failed: ${r.error}`);
    const objects = parseFindJsObjects(r.objects ?? '');
    const props = parseInspect(r.inspect ?? '');
    const holders = [...new Set(parseFindRefs(r.refs ?? '').map((ref) => ref.replace(/\..*$/, '')))];
    const evidence = [
      '(lldb) v8 findjsobjects   [the shop\'s constructors]',
      ...(r.objects ?? '').split('\n').filter((l) => /\b(Order|Coupon|Cart|Customer|Promotion)\s*$/.test(l)),
      '(lldb) v8 findjsinstances Coupon',
      (r.instances ?? '').trim(),
    ].join('\n');
    return { orders: objects.get('Order'), code: props.get('code'), holders, evidence };
  } finally {
    await app.stop();
    if (core) fs.rmSync(core, { force: true });
  }
}

export const check: LabChecker = async (ctx) => {
  if (ctx.track === 'illumos') return checkIllumos(ctx);
  if (ctx.track !== 'linux') {
    // The illumos track's steps (DTrace, mdb_v8) are written; its checker is not yet.
    throw new CheckEnvironmentError(`the ${ctx.lab} checker runs on the Linux track only`, 'run it on a Linux lab host: tracelab check 05-post-mortem --track linux');
  }
  requirePostMortem();
  const nodePath = which('node');
  if (!nodePath) throw new CheckEnvironmentError('node is not on PATH', 'install Node.js (the lab runs the host node)');
  const given = QUESTIONS.filter((q) => ctx.answers[q] !== undefined);
  if (!given.length) {
    const evidence = `no answers in ${path.join(ctx.dir, '.tracelab', 'answers.json')}`;
    return {
      passed: false,
      steps: QUESTIONS.map((q) => ({
        id: q,
        passed: false,
        message: `no answer yet: find it in a core, then \`tracelab answer 05-post-mortem ${q} VALUE\``,
        evidence,
      })),
    };
  }
  if (!fs.existsSync(path.join(ctx.dir, APP))) throw new Error(`no ${APP} in ${ctx.dir}`);

  const truth = await readTheCore(fs.realpathSync(nodePath), ctx.dir, ctx.scratch, ctx.log);
  const steps: StepResult[] = [];
  const judge = (id: string, actual: string | undefined, ok: (given: string) => boolean, hint: string) => {
    const a = ctx.answers[id];
    if (actual === undefined) {
      steps.push({ id, passed: false, message: `the checker could not read this from its core (${hint})`, evidence: truth.evidence });
    } else if (a === undefined) {
      steps.push({ id, passed: false, message: `no answer yet: \`tracelab answer 05-post-mortem ${id} VALUE\` (${hint})`, evidence: truth.evidence });
    } else if (ok(a)) {
      steps.push({ id, passed: true, message: `right: ${actual}`, evidence: truth.evidence });
    } else {
      steps.push({ id, passed: false, message: `"${a}" is not what the core holds: ${hint}`, evidence: truth.evidence });
    }
  };
  judge('order-count', truth.orders === undefined ? undefined : String(truth.orders), (a) => Number(a.trim()) === truth.orders, 'count them with `v8 findjsobjects`');
  judge('coupon-code', truth.code, (a) => normalizeAnswer(a).replace(/^"|"$/g, '') === normalizeAnswer(truth.code ?? ''), 'print the Coupon with `v8 findjsinstances Coupon` and `v8 inspect ADDR`');
  judge(
    'coupon-holder',
    truth.holders.length ? truth.holders.join(', ') : undefined,
    (a) => truth.holders.some((h) => normalizeAnswer(h) === normalizeAnswer(a).replace(/\s*(object|instance)s?$/, '')),
    'ask `v8 findrefs -v ADDR` who refers to the Coupon',
  );
  return { passed: steps.every((s) => s.passed), steps };
};
