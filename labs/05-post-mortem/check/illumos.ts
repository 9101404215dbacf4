/**
 * Lab 5, illumos track: the answers must match what the checker reads from its
 * own core of app/shop.js (started from the student's directory on the
 * students' Node 6, so it is the same shop): gcore, then mdb with mdb_v8 running
 * the dcmds the steps teach:
 *
 *   ::findjsobjects                                         order-count
 *   ::findjsobjects -c Coupon | ::findjsobjects | ::jsprint coupon-code
 *   ::findjsobjects -c Coupon | ::findjsobjects -r          who refers to it,
 *   REF::jsconstructor (a second session)                   coupon-holder
 *
 * The core is deleted before the check returns. Never run against real mdb
 * here (see vm/README.md); tested with stand-ins. The same limit as the Linux
 * branch (check/index.ts): the shop derives from host and directory, so the
 * answers can be computed from app/shop.js without a core.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { LabChecker, StepResult } from '../../../src/check/types';
import { spawnGroup, waitForOutput } from '../../../src/check/proc';
import { normalizeAnswer } from '../../../src/check/answers';
import { requireIllumos, gcore, runMdb } from '../../../src/check/illumos/run';
import { parseFindJsObjects, groupsByConstructor, parseJsPrint, type JsValue } from '../../../src/check/illumos/mdb';
import { node6, firstLines } from '../../../src/check/illumos/lab';

const APP = path.join('app', 'shop.js');
const QUESTIONS = ['order-count', 'coupon-code', 'coupon-holder'];
const MARK = 'tracelab-section';

interface Truth {
  orders: number | undefined;
  code: string | undefined;
  holders: string[];
  evidence: string;
}

/** mdb's output split at the `::echo tracelab-section N` lines. */
export function sections(out: string): string[] {
  return out.split(new RegExp(`^${MARK} \\d+\\s*$`, 'm')).slice(1);
}

/** "8ff2d40d referred to by 854cf9c1.coupon" → the referring objects' addresses. */
export function referrers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/referred to by (?:0x)?([0-9a-f]+)[.[]/gi)) if (!out.includes(m[1])) out.push(m[1]);
  return out;
}

function isObject(v: JsValue): v is { [k: string]: JsValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !('$raw' in v);
}

async function readTheCore(node: string, dir: string, scratch: string, log: (m: string) => void): Promise<Truth> {
  const app = spawnGroup(node, [path.join(dir, APP)], { cwd: scratch, maxOutputBytes: 64 * 1024 });
  let core: string | null = null;
  try {
    await waitForOutput(app, (o) => /shop open/.test(o), 15_000, 'app/shop.js to print "shop open"');
    log(`taking a core of pid ${app.pid} with gcore`);
    core = await gcore(app.pid, scratch, 60_000);
    await app.stop();
    log('reading it with mdb and mdb_v8');
    const cmds = [
      `::echo ${MARK} 1`,
      '::findjsobjects',
      `::echo ${MARK} 2`,
      '::findjsobjects -c Coupon | ::findjsobjects | ::jsprint',
      `::echo ${MARK} 3`,
      '::findjsobjects -c Coupon | ::findjsobjects -r',
    ];
    const r = await runMdb(core, cmds, { timeoutMs: 90_000 });
    if (r.code !== 0 || !r.stdout.includes(`${MARK} 3`)) throw new Error(`mdb failed (${r.timedOut ? 'timed out' : 'code ' + r.code}): ${firstLines(r.stderr || r.stdout, 6)}`);
    const [objs = '', printed = '', refs = ''] = sections(r.stdout);
    const groups = groupsByConstructor(parseFindJsObjects(objs), 'Order');
    const orders = groups.length ? groups.reduce((s, g) => s + g.objects, 0) : undefined;
    const coupon = parseJsPrint(printed).values.find((v) => isObject(v) && typeof (v as Record<string, JsValue>).code === 'string') as Record<string, JsValue> | undefined;
    const code = coupon ? String(coupon.code) : undefined;
    const holders: string[] = [];
    const refAddrs = referrers(refs);
    if (refAddrs.length) {
      const c = await runMdb(core, refAddrs.map((a) => `${a}::jsconstructor`), { timeoutMs: 60_000 });
      for (const line of c.stdout.split('\n')) {
        const name = line.trim();
        if (/^[A-Za-z_$][\w$]*$/.test(name) && !holders.includes(name)) holders.push(name);
      }
    }
    const evidence = [
      '> ::findjsobjects   [the shop\'s constructors]',
      ...objs.split('\n').filter((l) => /\b(Order|Coupon|Cart|Customer|Promotion):/.test(l)),
      '> ::findjsobjects -c Coupon | ::findjsobjects | ::jsprint',
      firstLines(printed.trim(), 8),
      '> ::findjsobjects -c Coupon | ::findjsobjects -r',
      firstLines(refs.trim(), 5),
    ].join('\n');
    return { orders, code, holders, evidence };
  } finally {
    await app.stop();
    if (core) fs.rmSync(core, { force: true });
  }
}

export const checkIllumos: LabChecker = async (ctx) => {
  requireIllumos(['gcore', 'mdb']);
  const node = node6();
  const given = QUESTIONS.filter((q) => ctx.answers[q] !== undefined);
  if (!given.length) {
    const evidence = `no answers in ${path.join(ctx.dir, '.tracelab', 'answers.json')}`;
    return {
      passed: false,
      steps: QUESTIONS.map((q) => ({ id: q, passed: false, message: `no answer yet: find it in a core with mdb, then \`tracelab answer 05-post-mortem ${q} VALUE\``, evidence })),
    };
  }
  if (!fs.existsSync(path.join(ctx.dir, APP))) throw new Error(`no ${APP} in ${ctx.dir}`);

  const truth = await readTheCore(node, ctx.dir, ctx.scratch, ctx.log);
  const steps: StepResult[] = [];
  // The same judgement as the Linux branch (labs/05-post-mortem/check/index.ts).
  const judge = (id: string, actual: string | undefined, ok: (given: string) => boolean, hint: string) => {
    const a = ctx.answers[id];
    if (actual === undefined) steps.push({ id, passed: false, message: `the checker could not read this from its core (${hint})`, evidence: truth.evidence });
    else if (a === undefined) steps.push({ id, passed: false, message: `no answer yet: \`tracelab answer 05-post-mortem ${id} VALUE\` (${hint})`, evidence: truth.evidence });
    else if (ok(a)) steps.push({ id, passed: true, message: `right: ${actual}`, evidence: truth.evidence });
    else steps.push({ id, passed: false, message: `"${a}" is not what the core holds: ${hint}`, evidence: truth.evidence });
  };
  judge('order-count', truth.orders === undefined ? undefined : String(truth.orders), (a) => Number(a.trim()) === truth.orders, 'count them with `::findjsobjects`');
  judge('coupon-code', truth.code, (a) => normalizeAnswer(a).replace(/^"|"$/g, '') === normalizeAnswer(truth.code ?? ''), 'print the Coupon with `::findjsobjects -c Coupon | ::findjsobjects | ::jsprint`');
  judge(
    'coupon-holder',
    truth.holders.length ? truth.holders.join(', ') : undefined,
    (a) => truth.holders.some((h) => normalizeAnswer(h) === normalizeAnswer(a).replace(/\s*(object|instance)s?$/, '')),
    'ask `ADDR::findjsobjects -r` who refers to the Coupon, then `REF::jsconstructor`',
  );
  return { passed: steps.every((s) => s.passed), steps };
};
