/**
 * Class mode in the portal, in-process: the authorization matrix generated from
 * the route table (every route × anonymous / owner / other student / instructor),
 * the table covering every express route, id guessing and URL replay, the
 * spectate socket dropping a spectator's keystrokes until an explicit take-over.
 * Real Unix users and bubblewrap sandboxes (the local-user backend; needs root).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'http';
import * as fs from 'fs';
import * as path from 'path';
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
        // Allowed means the authorization layer let it through: the route may still say 400/404/409,
        // but never fall over (a 5xx would hide whether the handler ran at all).
        assert.ok(status < 500, `${r.method} ${r.path} as ${who}: allowed, but answered ${status}`);
        if (r.access !== 'anonymous') assert.ok(status !== 401 && status !== 403, `${r.method} ${r.path} as ${who}: expected to be allowed, got ${status}`);
        else assert.notEqual(status, 403, `${r.method} ${r.path} as ${who}`);
      } else {
        assert.equal(status, want, `${r.method} ${r.path} as ${who}: expected ${want}, got ${status}`);
      }
    }
  }
  console.log(`# ${ROUTES.length} routes × 4 callers:\n# ${rows.join('\n# ')}`);
});

/**
 * One request exactly as given (no URL normalisation: fetch and ws resolve `/./` and
 * may re-encode), as `who`; the HTTP status, or 101 for an accepted WebSocket.
 */
async function rawCall(method: RouteSpec['method'], rawPath: string, who: string | null, logout = false): Promise<number> {
  const u = new URL(base);
  const headers: Record<string, string> = { Origin: origin, Host: u.host };
  // Logging out (by any spelling that gets through) ends the session it is called with: a session of its own.
  if (who) headers.Cookie = logout ? await login(base, svc.cs.issueJoinToken(IDS[who])) : cookies[who];
  if (method === 'WS') Object.assign(headers, { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64') });
  else if (method === 'POST') Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': '2' });
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: method === 'WS' ? 'GET' : method, path: rawPath, headers, agent: false });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode || 0);
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

type Variant = { path: string; how: string };

/**
 * Other spellings of a table route's sample path. `literal` ones change a fixed
 * segment of the path (letter case, a %-escape, a doubled or encoded slash, a `/./`):
 * they are a different path to the table, so they must match no entry. The others
 * keep the literal segments and change only the parameters or add a trailing slash:
 * the same route, so the same decision.
 */
function variants(r: RouteSpec): { literal: Variant[]; same: Variant[] } {
  const segs = r.path.split('/').slice(1);
  const isLiteral = (seg: string) => seg !== '*' && !seg.startsWith(':') && seg !== '';
  const build = (f: (seg: string, i: number) => string) => concrete({ ...r, path: '/' + segs.map(f).join('/') });
  const literal: Variant[] = [];
  const lit = (how: string, path: string) => literal.push({ how, path });
  const canonical = concrete(r);
  if (segs.some((x) => isLiteral(x) && /[a-z]/.test(x))) lit('upper case', build((x) => (isLiteral(x) ? x.toUpperCase() : x)));
  segs.forEach((seg, i) => {
    if (!isLiteral(seg)) return;
    const at = (g: (x: string) => string) => build((x, j) => (j === i ? g(x) : x));
    if (/[a-z]/.test(seg)) {
      const k = seg.search(/[a-z]/);
      lit(`mixed case in '${seg}'`, at((x) => x.slice(0, k) + x[k].toUpperCase() + x.slice(k + 1)));
      lit(`mixed case at the end of '${seg}'`, at((x) => x.slice(0, -1) + x.slice(-1).toUpperCase()));
    }
    const hex = seg.charCodeAt(0).toString(16);
    lit(`%-encoded '${seg[0]}' in '${seg}'`, at((x) => `%${hex}${x.slice(1)}`));
    lit(`%-encoded (upper hex) '${seg[0]}' in '${seg}'`, at((x) => `%${hex.toUpperCase()}${x.slice(1)}`));
  });
  lit('leading //', '/' + canonical);
  for (let i = 1; i < canonical.length; i++) {
    if (canonical[i] !== '/') continue;
    // Only slashes between literal segments: under /static/* a doubled slash is still a file name.
    if (r.path.includes('*') && i >= canonical.indexOf('/', 1)) break;
    lit(`// before '${canonical.slice(i + 1).split('/')[0]}'`, canonical.slice(0, i) + '//' + canonical.slice(i + 1));
    lit(`%2F before '${canonical.slice(i + 1).split('/')[0]}'`, canonical.slice(0, i) + '%2F' + canonical.slice(i + 1));
    lit(`/./ before '${canonical.slice(i + 1).split('/')[0]}'`, canonical.slice(0, i) + '/.' + canonical.slice(i));
  }
  const same: Variant[] = [];
  if (canonical !== '/') same.push({ how: 'trailing slash', path: canonical + '/' });
  if (r.path.includes(':student')) {
    same.push({ how: 'student id upper case', path: concrete(r).replace(`/${A}`, `/${A.toUpperCase()}`) });
    same.push({ how: 'student id %-encoded', path: concrete(r).replace(`/${A}`, '/' + [...A].map((c) => '%' + c.charCodeAt(0).toString(16)).join('')) });
  }
  return { literal: literal.filter((v) => v.path !== canonical), same };
}

test('authorization matrix, other spellings: upper/mixed case, %-escapes, // and /./ of every route never get further than the canonical path', { skip, timeout: 120_000 }, async () => {
  let n = 0;
  const failures: string[] = [];
  for (const r of ROUTES) {
    const { literal, same } = variants(r);
    for (const who of ['anonymous', 'owner', 'other'] as Who[]) {
      const caller = who === 'anonymous' ? null : who;
      const want = expected(r.access, who);
      for (const v of literal) {
        // Not a path in the table: a logged-in caller gets 404 before any router, anyone else 401.
        const status = await rawCall(r.method, v.path, caller, r.path === '/api/logout');
        n++;
        // (A WebSocket's path is checked against the table before its session: 404 for anyone.)
        const ok = who === 'anonymous' ? status === 401 || status === 404 : status === 404;
        if (!ok) failures.push(`${r.method} ${v.path} (${v.how}) as ${who}: ${status}, want ${who === 'anonymous' ? '401 or 404' : 404}`);
      }
      if (want === 'allowed') continue;
      for (const v of same) {
        const status = await rawCall(r.method, v.path, caller, r.path === '/api/logout');
        n++;
        // The same route: refused as the canonical path is (a student id in another case is another
        // id: 403 as well); the terminal gateway takes only its exact path (404 for a trailing slash).
        if (status !== want && status !== 404) failures.push(`${r.method} ${v.path} (${v.how}) as ${who}: ${status}, the canonical path is ${want}`);
      }
    }
  }
  assert.deepEqual(failures, [], `spellings that got further than the canonical path (${failures.length} of ${n})`);
  assert.ok(n > ROUTES.length * 20, `only ${n} requests`);
  console.log(`# ${n} other spellings of ${ROUTES.length} routes: each refused as the table says`);
});

test('a path outside the route table is 404 before any router, even logged in (instructor included)', { skip }, async () => {
  const outside: [RouteSpec['method'], string][] = [
    ['GET', '/nope'],
    ['GET', '/api/nope'],
    ['GET', '/api/class/nope'],
    ['GET', '/api/class/students'],
    ['GET', '/api/logout'],
    ['POST', '/api/class/grid'],
    ['POST', '/class'],
    ['GET', '/api/class/students/mx-a/reset'],
    ['GET', '/api/labs/00-hello/check/status/x'],
    ['WS', '/api/class/spectate'],
    ['WS', '/API/class/spectate/mx-a'],
    ['WS', '/api/Terminal'],
  ];
  for (const who of ['owner', 'other', 'instructor']) {
    for (const [m, p] of outside) {
      assert.equal(match(m, p), null, `${m} ${p} is in the table`);
      assert.equal(await rawCall(m, p, who), 404, `${m} ${p} as ${who}`);
    }
    // Methods the table has no entry for at all.
    for (const m of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      assert.equal(await rawCall(m as RouteSpec['method'], '/api/class/grid', who), 404, `${m} /api/class/grid as ${who}`);
    }
  }
  // The pages and assets the table lists still work (derived from the table, not a hand list).
  for (const p of ['/', '/labs/00-hello', '/static/style.css', '/api/labs']) assert.equal(await rawCall('GET', p, 'owner'), 200, p);
  assert.equal(await rawCall('GET', '/class', 'instructor'), 200);
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

test("artifacts on the local-user backend: a symlink to the store, /etc/shadow or another student's workspace is refused", { skip, timeout: 60_000 }, async () => {
  const get = async (lab: string, name: string) => {
    const res = await fetch(`${base}api/labs/${lab}/artifacts/${name}`, { headers: { Cookie: cookies.owner } });
    return { status: res.status, text: await res.text() };
  };
  // A's host (and workspace) exist: the spectate test opened A's terminal. B's too (the matrix).
  assert.equal((await get('00-hello', 'own.svg')).status, 404);
  const wsA = path.join(data, 'workspaces', A);
  const wsB = path.join(data, 'workspaces', B);
  const outA = path.join(wsA, '00-hello', 'out');
  fs.mkdirSync(outA, { recursive: true });
  fs.writeFileSync(path.join(outA, 'own.svg'), '<svg>alice-own</svg>');
  fs.mkdirSync(path.join(wsB, '01-second', 'out'), { recursive: true });
  fs.writeFileSync(path.join(wsB, '01-second', 'out', 'b.svg'), '<svg>bob-secret</svg>');
  fs.writeFileSync(path.join(wsB, 'notes.txt'), 'bob-secret');
  const links: [string, string][] = [
    ['store.svg', path.join(data, 'tracelab.db')],
    ['shadow.txt', '/etc/shadow'],
    ['bob.txt', path.join(wsB, 'notes.txt')],
    ['bob-rel.txt', `../../../${B}/notes.txt`],
    ['data.txt', data],
  ];
  for (const [name, to] of links) fs.symlinkSync(to, path.join(outA, name));
  // A directory on the way out of the workspace: A's 01-second/out is B's.
  fs.rmSync(path.join(wsA, '01-second', 'out'), { recursive: true, force: true });
  fs.symlinkSync(path.join(wsB, '01-second', 'out'), path.join(wsA, '01-second', 'out'));
  // Inside A's workspace a symlink is fine.
  fs.symlinkSync('../../00-hello/out/own.svg', path.join(outA, 'alias.svg'));

  for (const [name] of links) {
    const r = await get('00-hello', name);
    assert.equal(r.status, 404, `${name}: ${r.status} ${r.text.slice(0, 80)}`);
    assert.doesNotMatch(r.text, /SQLite format|root:|bob-secret/, name);
  }
  const dir = await get('01-second', 'b.svg');
  assert.equal(dir.status, 404, `01-second/out -> B's: ${dir.status}`);
  assert.doesNotMatch(dir.text, /bob-secret/);
  const own = await get('00-hello', 'own.svg');
  assert.equal(own.status, 200);
  assert.match(own.text, /alice-own/);
  assert.match((await get('00-hello', 'alias.svg')).text, /alice-own/);
});

test("the grid gets a check's result when the student's request closed before the check ended", { skip, timeout: 90_000 }, async () => {
  // The instructor's live stream, read in the background.
  const sse = await fetch(`${base}api/class/events`, { headers: { Cookie: cookies.instructor } });
  const reader = sse.body!.getReader();
  const events: any[] = [];
  let buf = '';
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += Buffer.from(value!).toString();
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = /^event: (\S+)\ndata: (.*)$/m.exec(block);
        if (ev && ev[1] === 'check') events.push(JSON.parse(ev[2]));
      }
    }
  })();
  const until = async (what: string, f: () => boolean, ms = 60_000) => {
    const end = Date.now() + ms;
    while (!f()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; check events: ${JSON.stringify(events.slice(-4))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  // Hold every check slot, so A's check is certainly still in the queue when A goes away.
  const release: (() => void)[] = [];
  const holds = Array.from({ length: portal.checks.limit }, (_x, i) => portal.checks.submit(`hold-${i}`, '00-hello', () => new Promise<any>((r) => release.push(() => r(null)))).promise);
  const t0 = Date.now();
  try {
    const ac = new AbortController();
    const post = fetch(`${base}api/labs/00-hello/check`, { method: 'POST', signal: ac.signal, headers: { Cookie: cookies.owner, Origin: origin, 'Content-Type': 'application/json' }, body: '{}' }).catch((e) => e);
    await until('A’s check in the queue', () => events.some((e) => e.user === A && e.lab === '00-hello' && e.cell.checking));
    for (;;) {
      const st = await (await fetch(`${base}api/labs/00-hello/check/status`, { headers: { Cookie: cookies.owner } })).json();
      if (st && st.state === 'queued') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    ac.abort();
    assert.equal((await post).name, 'AbortError');
    // The portal saw the request close (it publishes the cell then), with the check still queued.
    const seen = events.length;
    await until('the close of A’s request', () => events.length > seen);
    assert.equal(portal.store.lastCheck(A, '00-hello')!.createdAt < t0, true, 'no result yet');
  } finally {
    release.forEach((f) => f());
    await Promise.all(holds);
  }
  // The check runs and its result is stored: the dashboard hears of it, and the last word is final.
  await until('the stored result on the stream', () => events.some((e) => e.user === A && e.lab === '00-hello' && e.cell.checkedAt >= t0));
  await until('a final event (not checking)', () => {
    const last = events.filter((e) => e.user === A && e.lab === '00-hello').pop();
    return !!last && last.cell.checkedAt >= t0 && !last.cell.checking;
  });
  const stored = portal.store.lastCheck(A, '00-hello')!;
  const last = events.filter((e) => e.user === A && e.lab === '00-hello').pop();
  assert.equal(last.cell.checkedAt, stored.createdAt);
  assert.equal(last.cell.state, stored.passed ? 'passed' : 'failed');
  const grid = await (await fetch(`${base}api/class/grid`, { headers: { Cookie: cookies.instructor } })).json();
  const cell = grid.students.find((x: any) => x.id === A).cells['00-hello'];
  assert.equal(cell.checkedAt, stored.createdAt);
  assert.equal(cell.checking, undefined);
  await reader.cancel();
  await reading;
});

test("a dashboard reset: B's workspace archived, a fresh host started through Hosts (so it is polled)", { skip, timeout: 60_000 }, async () => {
  const wsB = path.join(data, 'workspaces', B);
  fs.writeFileSync(path.join(wsB, 'before-reset.txt'), 'old');
  const res = await fetch(`${base}api/class/students/${B}/reset`, { method: 'POST', headers: { Cookie: cookies.instructor, Origin: origin, 'Content-Type': 'application/json' }, body: JSON.stringify({ confirm: B }) });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.ok(body.archive.startsWith(path.join(data, 'archive', 'mx', `${B}-`)), body.archive);
  assert.equal(fs.readFileSync(path.join(body.archive, 'before-reset.txt'), 'utf8'), 'old');
  assert.equal(fs.existsSync(path.join(wsB, 'before-reset.txt')), false, 'a fresh workspace');
  assert.ok(fs.existsSync(path.join(wsB, '00-hello')));
  // The portal's Hosts owns the new host: the poller watches it (next test) and B's terminal gets it.
  const host = portal.hosts.peek(B);
  assert.ok(host, 'the fresh host is registered in Hosts');
  assert.equal(await host!.poll(), null);
  const grid = await (await fetch(`${base}api/class/grid`, { headers: { Cookie: cookies.instructor } })).json();
  assert.equal(grid.students.find((x: any) => x.id === B).host.state, 'running');
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
