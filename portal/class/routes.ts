/**
 * The route table: every HTTP route and WebSocket of the portal, with who may call
 * it. Authorization happens in ONE place, `decide()`, driven by this table; the
 * authorization-matrix test is generated from it, and a test fails when the
 * express app has a route this table does not declare.
 *
 * Access levels:
 *  - anonymous      anyone (the login URL)
 *  - self           any logged-in user, acting on their OWN data: these routes take
 *                   no user id, the server uses the session's user, so there is
 *                   nothing to guess or replay
 *  - student-owner  routes naming a student (`:student`): that student, or an
 *                   instructor of the student's class
 *  - instructor     instructors only (of the class of `:student`, when named)
 */
import type { Role, UserRow } from './store';

export type Access = 'anonymous' | 'self' | 'student-owner' | 'instructor';
export type Method = 'GET' | 'POST' | 'WS';

export interface RouteSpec {
  method: Method;
  path: string;
  access: Access;
  /** What it is, for people reading the table (and the matrix test's output). */
  what: string;
}

export const ROUTES: RouteSpec[] = [
  { method: 'GET', path: '/', access: 'anonymous', what: 'login with ?token=, else the lab list (which needs a session)' },
  { method: 'GET', path: '/labs/:lab', access: 'self', what: 'a lab page' },
  { method: 'GET', path: '/static/*', access: 'self', what: 'scripts, styles' },
  { method: 'POST', path: '/api/logout', access: 'self', what: 'end my session' },
  { method: 'GET', path: '/api/labs', access: 'self', what: 'the lab list' },
  { method: 'GET', path: '/api/labs/:lab', access: 'self', what: "a lab's steps" },
  { method: 'GET', path: '/api/labs/:lab/check', access: 'self', what: 'my last check of a lab' },
  { method: 'POST', path: '/api/labs/:lab/check', access: 'self', what: 'run the checker on my host' },
  { method: 'GET', path: '/api/labs/:lab/check/status', access: 'self', what: 'my check in flight: queued (position) or running' },
  { method: 'POST', path: '/api/labs/:lab/answers/:step', access: 'self', what: 'answer a question' },
  { method: 'GET', path: '/api/labs/:lab/artifacts/:name', access: 'self', what: 'a file from my workspace' },
  { method: 'WS', path: '/api/terminal', access: 'self', what: 'my terminal' },
  { method: 'GET', path: '/api/class/me', access: 'self', what: 'my role and class; whether an instructor has taken over my terminal' },
  { method: 'GET', path: '/api/class/me/events', access: 'self', what: 'SSE: take-over notices for my terminal' },
  { method: 'GET', path: '/api/class/students/:student/results', access: 'student-owner', what: "a student's last check of every lab" },
  { method: 'GET', path: '/api/class/students/:student/results/:lab', access: 'student-owner', what: "a student's last check of a lab, with evidence" },
  { method: 'GET', path: '/class', access: 'instructor', what: 'the dashboard page' },
  { method: 'GET', path: '/api/class/grid', access: 'instructor', what: 'students × labs, host status' },
  { method: 'GET', path: '/api/class/events', access: 'instructor', what: 'SSE: checks, host status, take-overs as they happen' },
  { method: 'GET', path: '/api/class/export.csv', access: 'instructor', what: 'the grid as CSV' },
  { method: 'POST', path: '/api/class/students/:student/reset', access: 'instructor', what: "reset a student's host and workspace (archived)" },
  { method: 'POST', path: '/api/class/students/:student/link', access: 'instructor', what: 'a new one-time join link for a student' },
  { method: 'WS', path: '/api/class/spectate/:student', access: 'instructor', what: "watch a student's terminal; take over on request" },
];

/** Who is asking: null = no session; `self` (the local learner) has no class row. */
export type Caller = { id: string; role: Role | 'self'; class: string | null } | null;

export interface Compiled extends RouteSpec {
  re: RegExp;
  keys: string[];
}

/**
 * A table path as a regular expression over the raw (not %-decoded) pathname, the
 * way express matches it with the app's settings (app.ts: case-sensitive routing,
 * non-strict: one optional trailing slash). Case-sensitive, and a literal segment
 * matches only itself: `/API/class/grid`, `/api/%63lass/grid` and `/api//class/grid`
 * match no entry, and `authorize` answers 404 for every request that matches none.
 */
export function compile(spec: RouteSpec): Compiled {
  const keys: string[] = [];
  const src = spec.path
    .replace(/\/$/, '')
    .split('/')
    .map((seg) => {
      if (seg === '*') return '.*';
      if (seg.startsWith(':')) {
        keys.push(seg.slice(1));
        return '([^/]+)';
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { ...spec, re: new RegExp(`^${src}/?$`), keys };
}

const COMPILED = ROUTES.map(compile);

/** The table entry for a request, with its parameters, or null. */
export function match(method: Method | string, pathname: string): { route: Compiled; params: Record<string, string> } | null {
  const m = method === 'HEAD' ? 'GET' : method;
  for (const r of COMPILED) {
    if (r.method !== m) continue;
    const x = r.re.exec(pathname);
    if (!x) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((k, i) => {
      try {
        params[k] = decodeURIComponent(x[i + 1]);
      } catch {
        params[k] = x[i + 1];
      }
    });
    return { route: r, params };
  }
  return null;
}

export type Decision = { ok: true } | { ok: false; status: 401 | 403 | 404; code: string; message: string };

/**
 * The one authorization rule. `student` looks a student up (for :student routes).
 * A student asking about anyone else gets the same 403 whether that id exists or
 * not, so guessing ids reveals nothing.
 */
export function decide(route: RouteSpec, params: Record<string, string>, caller: Caller, student: (id: string) => UserRow | null): Decision {
  if (route.access === 'anonymous') return { ok: true };
  if (!caller) return { ok: false, status: 401, code: 'AUTH_REQUIRED', message: 'log in with your join link' };
  if (route.access === 'self') return { ok: true };
  const named = params.student;
  if (route.access === 'student-owner' && caller.role === 'student') {
    return named === caller.id ? { ok: true } : { ok: false, status: 403, code: 'FORBIDDEN', message: 'you can only see your own work' };
  }
  if (caller.role !== 'instructor') return { ok: false, status: 403, code: 'FORBIDDEN', message: 'this needs an instructor login' };
  if (named !== undefined) {
    const s = student(named);
    if (!s || s.role !== 'student' || s.class !== caller.class) return { ok: false, status: 404, code: 'STUDENT_UNKNOWN', message: `no student '${named.slice(0, 40)}' in class ${caller.class}` };
  }
  return { ok: true };
}
