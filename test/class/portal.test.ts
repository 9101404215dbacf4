/**
 * Class mode in the portal, in-process: the authorization matrix generated from
 * the route table (every route × anonymous / owner / other student / instructor),
 * the table covering every express route, id guessing and URL replay, the
 * spectate socket dropping a spectator's keystrokes until an explicit take-over.
 * Real Unix users and bubblewrap sandboxes (the local-user backend; needs root).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp, App } from '../../portal/server/app';
import { ClassService } from '../../portal/class/service';
import { ROUTES, RouteSpec } from '../../portal/class/routes';
import { match } from '../../portal/class/routes';
import { tempData, testConfig, login, TermClient, upgradeStatus } from '../server/harness';
import { cleanupClass, expressRoutes, IS_ROOT } from './helpers';
import { removeUnixUser } from '../../portal/hosts/local-user';

const A = 'mx-a';
const B = 'mx-b';
let data: string;
let portal: App;
let base: string;
let origin: string;
const cookies: Record<string, string> = {};
const IDS: Record<string, string> = { owner: A, other: B, instructor: 'mx-instructor' };
let svc: ClassService;

const skip = IS_ROOT ? false : 'the local class backend needs root (Unix users, bwrap)';

before(async () => {
  if (!IS_ROOT) return;
  data = tempData();
  portal = buildApp(testConfig(data), { log: () => undefined });
  base = (await portal.listen()).url;
  origin = base.replace(/\/$/, '');
  svc = new ClassService(testConfig(data), portal.store);
  const c = svc.create('mx', [{ id: A, name: 'Alice', email: '', line: 2 }, { id: B, name: 'Bob', email: '', line: 3 }], 'local');
  cookies.owner = await login(base, c.students[0].token);
  cookies.other = await login(base, c.students[1].token);
  cookies.instructor = await login(base, c.instructor.token);
});

after(async () => {
  if (!IS_ROOT) return;
  await portal.close();
  cleanupClass(data, [A, B]);
});

const SAMPLE: Record<string, string> = { lab: '00-hello', step: 'ask', name: 'hello.svg', student: A };
const concrete = (r: RouteSpec) => r.path.replace(/:([a-z]+)/g, (_m, k) => SAMPLE[k]).replace('/*', '/style.css');

/** Status of one call: HTTP status, or 101 for an accepted WebSocket. Streams are cut after the headers. */
async function call(r: RouteSpec, who: string | null): Promise<number> {
  const headers: Record<string, string> = { Origin: origin };
  // Logging out ends the session it is called with: give it a session of its own.
  if (who) headers.Cookie = r.path === '/api/logout' ? await login(base, svc.cs.issueJoinToken(IDS[who])) : cookies[who];
  const url = base.replace(/\/$/, '') + concrete(r);
  if (r.method === 'WS') return (await upgradeStatus(url.replace(/^http/, 'ws'), headers)).status;
  const res = await fetch(url, { method: r.method, headers: r.method === 'POST' ? { ...headers, 'Content-Type': 'application/json' } : headers, body: r.method === 'POST' ? '{}' : undefined, redirect: 'manual' });
  await res.body?.cancel();
  return res.status;
}

type Who = 'anonymous' | 'owner' | 'other' | 'instructor';
/** What the table says each caller gets: allowed, or refused with 401/403. */
function expected(access: RouteSpec['access'], who: Who): 'allowed' | 401 | 403 {
  if (access === 'anonymous') return 'allowed';
  if (who === 'anonymous') return 401;
  if (access === 'self') return 'allowed';
  if (access === 'student-owner') return who === 'other' ? 403 : 'allowed';
  return who === 'instructor' ? 'allowed' : 403;
}

test('authorization matrix: every route in the table × anonymous / owner / other student / instructor', { skip, timeout: 120_000 }, async () => {
  const rows: string[] = [];
  for (const r of ROUTES) {
    for (const who of ['anonymous', 'owner', 'other', 'instructor'] as Who[]) {
      const status = await call(r, who === 'anonymous' ? null : who);
      const want = expected(r.access, who);
      rows.push(`${r.method.padEnd(4)} ${r.path.padEnd(48)} ${who.padEnd(10)} ${status}`);
      if (want === 'allowed') {
        // Allowed means the authorization layer let it through: the route may still say 400/404/409.
        if (r.access !== 'anonymous') assert.ok(status !== 401 && status !== 403, `${r.method} ${r.path} as ${who}: expected to be allowed, got ${status}`);
        else assert.notEqual(status, 403, `${r.method} ${r.path} as ${who}`);
      } else {
        assert.equal(status, want, `${r.method} ${r.path} as ${who}: expected ${want}, got ${status}`);
      }
    }
  }
  console.log(`# ${ROUTES.length} routes × 4 callers:\n# ${rows.join('\n# ')}`);
});

test('the route table declares every route the express app has', { skip }, () => {
  const routes = expressRoutes(portal.app);
  assert.ok(routes.length >= 10, `found only ${routes.length} routes`);
  const missing = routes.filter(([m, p]) => !ROUTES.some((r) => r.method === m && r.path === p) && !match(m, p.replace(/:([a-z]+)/g, 'x')));
  assert.deepEqual(missing, [], 'routes with no entry in portal/class/routes.ts (say who may call them)');
});

test("a student cannot reach another student's results: guessed ids and replayed URLs", { skip }, async () => {
  // A has a stored result (with evidence) for 00-hello.
  portal.store.addCheck({ user: A, lab: '00-hello', passed: true, exitCode: 0, result: { lab: '00-hello', passed: true, steps: [{ id: 'done', passed: true, message: 'secret-of-alice', evidence: 'alice-evidence' }] }, error: null });
  const get = async (who: string, p: string) => {
    const res = await fetch(base.replace(/\/$/, '') + p, { headers: { Cookie: cookies[who] } });
    return { status: res.status, text: await res.text() };
  };
  const own = await get('owner', `/api/class/students/${A}/results/00-hello`);
  assert.equal(own.status, 200);
  assert.match(own.text, /alice-evidence/);
  for (const p of [`/api/class/students/${A}/results/00-hello`, `/api/class/students/${A}/results`, '/api/class/students/mx-c/results', '/api/class/students/..%2Fmx-a/results', '/api/class/grid', '/api/class/export.csv', '/class']) {
    const r = await get('other', p);
    assert.equal(r.status, 403, `${p} as another student`);
    assert.doesNotMatch(r.text, /alice/);
  }
  // Replaying A's own-data URLs with B's cookie answers about B, never A.
  const replay = await get('other', '/api/labs/00-hello/check');
  assert.equal(replay.status, 200);
  assert.doesNotMatch(replay.text, /alice/);
  // The instructor sees A's result; an unknown id is a 404 for them.
  assert.match((await get('instructor', `/api/class/students/${A}/results/00-hello`)).text, /alice-evidence/);
  assert.equal((await get('instructor', '/api/class/students/nobody/results')).status, 404);
  // A used join link does not log anyone in again.
  const c = new ClassService(testConfig(data), portal.store);
  const token = c.cs.issueJoinToken(A);
  await login(base, token);
  const again = await fetch(`${base}?token=${token}`, { redirect: 'manual' });
  assert.equal(again.status, 401);
});

test("spectating: the instructor sees A's terminal live, keystrokes are dropped until take over", { skip, timeout: 60_000 }, async () => {
  const ws = base.replace(/^http/, 'ws');
  const a = new TermClient(`${ws}api/terminal?cols=100&rows=30`, { Cookie: cookies.owner, Origin: origin });
  await a.until(() => a.controls.some((c) => c.state === 'attached'), 'A attached');
  a.type('echo who-$(id -un)\r');
  await a.until(() => /who-tracelab-mx-a/.test(a.text), "A's shell runs as tracelab-mx-a");
  // B tries to watch A: refused at the upgrade, before any process exists.
  const refused = await upgradeStatus(`${ws}api/class/spectate/${A}`, { Cookie: cookies.other, Origin: origin });
  assert.equal(refused.status, 403);
  assert.match(refused.refused, /FORBIDDEN/);

  const spy = new TermClient(`${ws}api/class/spectate/${A}?cols=100&rows=30`, { Cookie: cookies.instructor, Origin: origin });
  await spy.until(() => spy.controls.some((c) => c.t === 'mode' && c.mode === 'spectate'), 'spectate mode');
  a.type('echo live-$((6*7))\r');
  await spy.until(() => /live-42/.test(spy.text), 'A’s output on the spectator');
  spy.type('echo spy-$((2+3))\r');
  a.type('echo after-spy-$((1+1))\r');
  await a.until(() => /after-spy-2/.test(a.text), 'A’s own command');
  await spy.until(() => /after-spy-2/.test(spy.text), 'spectator sees it too');
  assert.doesNotMatch(a.text, /spy-5/, 'the spectator’s keystrokes never reached the shell');
  assert.doesNotMatch(a.text, /echo spy/, 'nor its screen');

  // Take over: recorded, announced to the student, and now keystrokes go through.
  const sse = await fetch(`${base}api/class/me/events`, { headers: { Cookie: cookies.owner } });
  const reader = sse.body!.getReader();
  let seen = '';
  const sawTakeover = (async () => {
    while (!/event: takeover[\s\S]*"active":true/.test(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += Buffer.from(value!).toString();
    }
  })();
  spy.ws.send(JSON.stringify({ t: 'takeover' }));
  await spy.until(() => spy.controls.some((c) => c.t === 'mode' && c.mode === 'control'), 'control mode');
  await sawTakeover;
  await reader.cancel();
  spy.type('echo took-$((3*3))\r');
  await a.until(() => /took-9/.test(a.text), 'the instructor’s command in A’s shell');
  const ev = portal.store.db.prepare("SELECT kind, by_user FROM class_events WHERE user = ? AND kind IN ('takeover','release') ORDER BY id").all(A) as any[];
  assert.deepEqual(ev[0], { kind: 'takeover', by_user: 'mx-instructor' });
  spy.ws.send(JSON.stringify({ t: 'release' }));
  await spy.until(() => spy.controls.filter((c) => c.t === 'mode' && c.mode === 'spectate').length >= 2, 'back to spectate');
  spy.type('echo again-$((4+4))\r');
  a.type('echo mine-$((5+5))\r');
  await a.until(() => /mine-10/.test(a.text), 'A types again');
  assert.doesNotMatch(a.text, /again-8/);
  await spy.close();
  await a.close();
});

test("the sandbox: A's shell sees only A's workspace, not the data dir or other students", { skip, timeout: 30_000 }, async () => {
  const a = new TermClient(`${base.replace(/^http/, 'ws')}api/terminal?cols=150&rows=30`, { Cookie: cookies.owner, Origin: origin });
  await a.until(() => a.controls.some((c) => c.state === 'attached'), 'attached');
  a.type(`ls /home; ls ${data}/workspaces/${B} 2>&1 | head -1; cat ${data}/tracelab.db 2>&1 | head -c 80; echo; echo end-$((7*6))\r`);
  await a.until(() => /end-42/.test(a.text), 'commands ran');
  assert.match(a.text, /tracelab-mx-a/);
  assert.doesNotMatch(a.text, /tracelab-mx-b/);
  assert.match(a.text, /No such file or directory/);
  assert.doesNotMatch(a.text, /SQLite format/);
  await a.close();
});

test('host status: a host that vanishes shows as dead on the dashboard stream', { skip, timeout: 30_000 }, async () => {
  const res = await fetch(`${base}api/class/events`, { headers: { Cookie: cookies.instructor } });
  const reader = res.body!.getReader();
  let seen = '';
  // B's host was started by the matrix above; take its Unix user away under it.
  removeUnixUser(B);
  while (!new RegExp(`event: host\\ndata: \\{[^\\n]*"user":"${B}"[^\\n]*"state":"dead"`).test(seen)) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += Buffer.from(value!).toString();
  }
  await reader.cancel();
  assert.match(seen, /"state":"dead"/);
  const grid = await (await fetch(`${base}api/class/grid`, { headers: { Cookie: cookies.instructor } })).json();
  assert.equal(grid.students.find((s: any) => s.id === B).host.state, 'dead');
});
