/**
 * Class mode in the portal: join-link login, the one authorization middleware
 * (driven by the route table in routes.ts), the class API under /api/class, the
 * dashboard page, the spectate WebSocket, host status tracking and the live bus.
 *
 * buildApp (portal/server/app.ts) wires it in with one line per hook. With no
 * class in the store all of this is idle: `self`, the local learner, reaches
 * every `self` route as before and no instructor route.
 */
import express, { NextFunction, Request, Response } from 'express';
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import * as path from 'path';
import { WebSocketServer } from 'ws';
import { INSTALL_ROOT, listLabs } from '../../src/labs';
import type { Config } from '../../src/config';
import type { Store, StoredCheck } from '../store';
import { Auth, originAllowed, sessionCookie } from '../server/auth';
import type { Hosts } from '../server/hosts';
import type { LabHost } from '../hosts/types';
import { clampSize, MAX_INPUT_FRAME } from '../shared/protocol';
import { ClassService } from './service';
import { ClassStore, UserRow } from './store';
import { Caller, decide, match } from './routes';
import { Cell, ClassBus, ClassEventMsg, HostState, streamSse } from './events';
import { SpectateSession } from './spectate';
import type { CheckQueue } from '../server/check-queue';

const POLL_MS = 5000;
const ATTACH_PARALLEL = 4;
const POLL_PARALLEL = 8;
const DASHBOARD = path.join(INSTALL_ROOT, 'portal', 'public', 'dashboard.html');

/** What class mode reads of the portal's check queue (server/check-queue.ts). */
export type ChecksInFlight = Pick<CheckQueue<unknown>, 'status' | 'submit'>;
const NO_CHECKS: ChecksInFlight = {
  status: () => null,
  submit: () => {
    throw new Error('no check queue');
  },
};

export interface HostStatus {
  state: HostState;
  percent: number;
  message: string;
}

/** A grid cell from a lab's last check (or its absence). */
export function cellOf(check: Pick<StoredCheck, 'passed' | 'result' | 'error' | 'createdAt'> | null, opened: boolean): Cell {
  if (!check) return { state: opened ? 'in progress' : 'not started', message: '', checkedAt: null };
  const r = check.result as { steps?: { passed: boolean; message: string }[] } | null;
  let message: string;
  if (check.error) message = check.error.message.split('\n')[0];
  else if (r && Array.isArray(r.steps)) {
    const bad = r.steps.find((s) => !s.passed);
    message = bad ? bad.message : (r.steps[r.steps.length - 1]?.message ?? 'passed');
  } else message = check.passed ? 'passed' : 'failed';
  return { state: check.passed ? 'passed' : 'failed', message: String(message).slice(0, 300), checkedAt: check.createdAt };
}

export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  // A spreadsheet would run a cell starting with = + - @ as a formula.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export class ClassMode {
  readonly service: ClassService;
  readonly cs: ClassStore;
  readonly bus = new ClassBus();
  readonly router: express.Router;
  private readonly status = new Map<string, HostStatus>();
  /** user\0lab → POST …/check requests still open (they may not have reached the check queue yet). */
  private readonly requested = new Map<string, number>();
  private readonly takeovers = new Map<string, string>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_INPUT_FRAME * 4 });
  private readonly sockets = new Set<import('ws').WebSocket>();
  private readonly poller: NodeJS.Timeout;
  private readonly offHostStatus: () => void;
  private readonly offCheck: () => void;
  private closed = false;
  private polling = false;

  constructor(
    private readonly config: Config,
    private readonly store: Store,
    private readonly auth: Auth,
    private readonly hosts: Hosts,
    private readonly log: (m: string) => void,
    private readonly checks: ChecksInFlight = NO_CHECKS,
  ) {
    this.service = new ClassService(config, store);
    this.cs = this.service.cs;
    hosts.backendOf = (user) => this.service.backendOf(user);
    this.router = this.makeRouter();
    // Hosts follows every start, a student's first page load included: show its progress on the dashboard.
    this.offHostStatus = hosts.onStatus((user, s) => {
      const u = this.cs.user(user);
      if (u && u.role === 'student' && u.class) this.setStatus(u.class, user, { state: s.state, percent: s.percent, message: s.message });
    });
    // The grid cell changes where the result is stored, not when the student's request ends:
    // a closed tab or an aborted request mid-check must not lose the result on the dashboard.
    this.offCheck = store.onCheck((c) => {
      const u = this.cs.user(c.user);
      if (u && u.role === 'student' && u.class) this.publishCheck({ id: u.id, role: u.role, class: u.class }, c.lab);
    });
    this.poller = setInterval(() => void this.poll(), POLL_MS);
    this.poller.unref();
    void this.reattachAll();
  }

  // --- who is asking ------------------------------------------------------------

  caller(user: string | null): Caller {
    if (!user) return null;
    const u = this.cs.user(user);
    if (u) return { id: u.id, role: u.role, class: u.class };
    return { id: user, role: 'self', class: null };
  }

  private studentOf = (id: string): UserRow | null => this.cs.user(id);

  // --- express hooks --------------------------------------------------------------

  /** GET /?token=: a class join link. Not ours → next() (the local learner's token). */
  login = (req: Request, res: Response, next: NextFunction): void => {
    if (typeof req.query.token !== 'string') return next();
    const token = req.query.token;
    // One transaction: a session that cannot be stored (a full disk) leaves the link unused.
    let login: { user: string; cookie: string } | null;
    try {
      login = this.store.write(() =>
        this.store.db.transaction(() => {
          const user = this.cs.redeemJoinToken(token);
          return user ? { user, cookie: this.auth.newSession(user) } : null;
        })(),
      );
    } catch (e) {
      return next(e);
    }
    if (!login) return next();
    const user = login.user;
    res.setHeader('Set-Cookie', sessionCookie(login.cookie));
    const u = this.cs.user(user);
    res.redirect(302, u && u.role === 'instructor' ? '/class' : '/');
  };

  /**
   * The one authorization check for HTTP (after the session middleware set res.locals.user).
   * Default deny: a request that matches no entry of the route table ends here with a 404,
   * before any router sees it. The table and express match the same raw pathname the same
   * way (case-sensitive, see app.ts), so no spelling of a path (`/API/class/grid`,
   * `/api/%63lass/grid`, `/api//class/grid`) reaches a handler the table did not decide on.
   */
  authorize = (req: Request, res: Response, next: NextFunction): void => {
    const m = match(req.method, req.path);
    const refuse = (status: number, code: string, message: string) => {
      if (req.path.startsWith('/api/')) res.status(status).json({ error: { code, message } });
      else res.status(status).type('text/plain').send(`${code}: ${message}\n`);
    };
    if (!m) return refuse(404, 'NOT_FOUND', `nothing at ${req.path.slice(0, 100)}`);
    const caller = this.caller((res.locals.user as string) ?? null);
    const d = decide(m.route, m.params, caller, this.studentOf);
    if (!d.ok) return refuse(d.status, d.code, d.message);
    if (caller && caller.role === 'student') this.observe(m.route.path, m.params, req, res, caller);
    next();
  };

  /** Student activity the dashboard shows: a lab opened, a check started and finished. */
  private observe(route: string, params: Record<string, string>, req: Request, res: Response, caller: NonNullable<Caller>): void {
    const lab = params.lab ?? '';
    if (route === '/api/labs/:lab' && req.method === 'GET') {
      res.on('finish', () => {
        if (res.statusCode !== 200 || this.cs.openedLabs(caller.id).has(lab)) return;
        try {
          this.cs.addEvent({ user: caller.id, kind: 'opened', lab });
        } catch (e) {
          // After the response, nobody to tell but the log (a full disk): the page was served.
          this.log(`class: could not record that ${caller.id} opened ${lab}: ${(e as Error).message}`);
          return;
        }
        this.publishCell(caller, lab);
      });
    }
    if (route === '/api/labs/:lab/check' && req.method === 'POST') {
      // The stored result is published by the store hook (constructor). Here: the 'checking'
      // mark, which lasts while this request is open or the check is in the queue.
      const key = `${caller.id}\0${lab}`;
      this.requested.set(key, (this.requested.get(key) ?? 0) + 1);
      this.publishCell(caller, lab);
      res.on('close', () => {
        const n = (this.requested.get(key) ?? 1) - 1;
        if (n > 0) this.requested.set(key, n);
        else this.requested.delete(key);
        // The student may have gone away mid-check (a closed tab): the check goes on.
        this.publishCheck(caller, lab);
      });
    }
  }

  /** A check of the lab is asked for or under way (a request open, queued or running). */
  private isChecking(user: string, lab: string): boolean {
    if ((this.requested.get(`${user}\0${lab}`) ?? 0) > 0) return true;
    const s = this.checks.status(user);
    return !!s && s.lab === lab;
  }

  private cell(user: string, lab: string, opened?: Set<string>): Cell {
    const c = cellOf(this.store.lastCheck(user, lab), (opened ?? this.cs.openedLabs(user)).has(lab));
    if (this.isChecking(user, lab)) c.checking = true;
    return c;
  }

  private publishCell(caller: NonNullable<Caller>, lab: string): void {
    this.bus.publish({ type: 'check', class: caller.class!, user: caller.id, lab, cell: this.cell(caller.id, lab) });
  }

  /**
   * Publish the cell now and, when a check of that lab is in the queue, again when it ends
   * (stored or not: an unreachable host stores nothing), so the last event says 'not checking'.
   */
  private publishCheck(caller: NonNullable<Caller>, lab: string): void {
    this.publishCell(caller, lab);
    const s = this.checks.status(caller.id);
    if (!s || s.lab !== lab) return;
    // The same student and lab while in flight joins that check: the job below never runs.
    this.checks
      .submit(caller.id, lab, () => Promise.reject(new Error('not run: joined a check in flight')))
      .promise.catch(() => undefined)
      .finally(() => this.closed || this.publishCell(caller, lab));
  }

  /** GET /class: the dashboard page (the route table lets instructors only this far). */
  page = (_req: Request, res: Response): void => {
    res.sendFile(DASHBOARD, { headers: { 'Cache-Control': 'no-store' } });
  };

  // --- the API ----------------------------------------------------------------------

  grid(className: string) {
    const labs = listLabs(this.config.labsDir).map((l) => ({ id: l.id, title: l.title }));
    const checks = new Map(this.cs.lastChecks(className).map((c) => [`${c.user}\0${c.lab}`, c]));
    const students = this.cs.users(className, 'student').map((s) => {
      const opened = this.cs.openedLabs(s.id);
      const cells: Record<string, Cell> = {};
      for (const l of labs) {
        const c = cellOf(checks.get(`${s.id}\0${l.id}`) ?? null, opened.has(l.id));
        if (this.isChecking(s.id, l.id)) c.checking = true;
        cells[l.id] = c;
      }
      return { id: s.id, name: s.name, email: s.email, host: this.hostStatus(s.id), takeover: this.takeovers.get(s.id) ?? null, cells };
    });
    return { class: className, labs, students };
  }

  private hostStatus(user: string): HostStatus {
    const s = this.status.get(user);
    if (s) return s;
    return this.store.loadHost(user) ? { state: 'starting', percent: 0, message: 're-attaching' } : { state: 'not started', percent: 0, message: 'not provisioned yet' };
  }

  private setStatus(cls: string, user: string, s: HostStatus): void {
    const old = this.status.get(user);
    if (old && old.state === s.state && old.percent === s.percent && old.message === s.message) return;
    this.status.set(user, s);
    this.bus.publish({ type: 'host', class: cls, user, ...s });
  }

  private makeRouter(): express.Router {
    // Case-sensitive like the route table (a router does not inherit the app's setting).
    const r = express.Router({ caseSensitive: true });
    const me = (res: Response) => this.caller(res.locals.user as string)!;
    const wrap = (h: (req: Request, res: Response) => Promise<unknown> | unknown) => (req: Request, res: Response, next: NextFunction) => {
      Promise.resolve().then(() => h(req, res)).catch(next);
    };

    r.get('/me', (_req, res) => {
      const c = me(res);
      const u = this.cs.user(c.id);
      res.json({ id: c.id, role: c.role, class: c.class, name: u ? u.name : c.id, takeover: this.takeovers.has(c.id) ? { by: this.takeovers.get(c.id) } : null });
    });

    r.get('/me/events', (_req, res) => {
      const c = me(res);
      streamSse(res, this.bus, (e) => e.user === c.id && (e.type === 'takeover' || e.type === 'reset'), { takeover: this.takeovers.has(c.id) ? { by: this.takeovers.get(c.id) } : null });
    });

    r.get('/students/:student/results', (req, res) => {
      const id = req.params.student;
      const labs = listLabs(this.config.labsDir);
      res.json({ student: id, labs: labs.map((l) => ({ lab: l.id, ...this.cell(id, l.id) })) });
    });

    r.get('/students/:student/results/:lab', (req, res) => {
      const c = this.store.lastCheck(req.params.student, req.params.lab);
      res.json(c ? { lab: c.lab, passed: c.passed, exitCode: c.exitCode, checkedAt: c.createdAt, result: c.result, error: c.error } : null);
    });

    r.get('/grid', (_req, res) => res.json(this.grid(me(res).class!)));

    r.get('/events', (_req, res) => {
      const cls = me(res).class!;
      streamSse(res, this.bus, (e) => e.class === cls);
    });

    r.get('/export.csv', (_req, res) => {
      const g = this.grid(me(res).class!);
      const head = ['id', 'name', 'email', 'host', ...g.labs.flatMap((l) => [l.id, `${l.id} message`, `${l.id} checked at`])];
      const rows = g.students.map((s) => [s.id, s.name, s.email, s.host.state, ...g.labs.flatMap((l) => {
        const c = s.cells[l.id];
        return [c.state, c.message, c.checkedAt ? new Date(c.checkedAt).toISOString() : ''];
      })]);
      res.set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${g.class}-progress.csv"`, 'Cache-Control': 'no-store' });
      res.send([head, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n');
    });

    r.post('/students/:student/reset', wrap(async (req, res) => {
      const id = req.params.student;
      if (!req.body || req.body.confirm !== id) {
        res.status(400).json({ error: { code: 'CONFIRM_REQUIRED', message: `resetting archives ${id}'s workspace and starts a fresh one: send {"confirm": "${id}"} to do it` } });
        return;
      }
      const cls = me(res).class!;
      const host = this.hosts.peek(id) ?? this.service.hostOf(id);
      this.hosts.forget(id);
      this.setStatus(cls, id, { state: 'starting', percent: 0, message: 'resetting: archiving the workspace' });
      // The fresh host is started through Hosts, like any other: polled, its status relayed
      // (onStatus above), the one the student's next page and terminal get.
      let archive: string;
      try {
        archive = await this.service.reset(id, me(res).id, undefined, { host, start: () => this.hosts.get(id) });
      } catch (e) {
        if (!this.hosts.peek(id)) this.setStatus(cls, id, { state: 'dead', percent: 100, message: `reset failed: ${(e as Error).message}`.slice(0, 300) });
        throw e;
      }
      // Drop opened-lab activity? No: the grid shows what the student did; checks after the reset are newer.
      this.bus.publish({ type: 'reset', class: cls, user: id, archive });
      res.json({ ok: true, archive });
    }));

    r.post('/students/:student/link', (req, res) => {
      const token = this.cs.issueJoinToken(req.params.student);
      res.json({ url: `${req.protocol}://${req.headers.host}/?token=${token}` });
    });

    r.use((_req, res) => res.status(404).json({ error: { code: 'NOT_FOUND', message: 'no such class API route' } }));
    return r;
  }

  // --- hosts: re-attach after a restart, poll, progress -------------------------------

  /** Re-attach every class host that has saved state (a portal restart), a few at a time. */
  private async reattachAll(): Promise<void> {
    const todo: { cls: string; user: string }[] = [];
    for (const c of this.cs.classes()) for (const s of this.cs.users(c.name, 'student')) if (this.store.loadHost(s.id)) todo.push({ cls: c.name, user: s.id });
    let next = 0;
    const worker = async () => {
      while (next < todo.length && !this.closed) {
        const t = todo[next++];
        await this.attach(t.cls, t.user);
      }
    };
    await Promise.all(Array.from({ length: ATTACH_PARALLEL }, worker));
  }

  private async attach(cls: string, user: string): Promise<void> {
    this.setStatus(cls, user, { state: 'starting', percent: 0, message: 're-attaching' });
    const ready = this.hosts.get(user);
    const host = this.hosts.peek(user);
    if (host) {
      void (async () => {
        try {
          for await (const p of host.progress()) {
            if (this.status.get(user)?.state !== 'starting') break;
            this.setStatus(cls, user, { state: 'starting', percent: p.percent, message: p.message });
          }
        } catch {
          // best effort
        }
      })();
    }
    try {
      await ready;
      this.setStatus(cls, user, { state: 'running', percent: 100, message: 'running' });
    } catch (e) {
      this.setStatus(cls, user, { state: 'dead', percent: 100, message: (e as Error).message });
    }
  }

  /**
   * Ask every class host whether it is up. A frozen remote host takes its
   * backend's connect timeout to answer (10 s for ssh), so hosts are polled
   * side by side and a round never starts while the last one is still out:
   * one dead host must not delay the news about the others.
   */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const todo: { cls: string; user: string; host: LabHost }[] = [];
      for (const c of this.cs.classes()) {
        for (const s of this.cs.users(c.name, 'student')) {
          const host = this.hosts.peek(s.id);
          const cur = this.status.get(s.id);
          if (host && !(cur && cur.state === 'starting')) todo.push({ cls: c.name, user: s.id, host });
        }
      }
      let next = 0;
      const worker = async () => {
        while (next < todo.length && !this.closed) {
          const t = todo[next++];
          let code: number | null;
          try {
            code = await t.host.poll();
          } catch {
            code = -1;
          }
          if (this.closed || this.hosts.peek(t.user) !== t.host) continue; // reset meanwhile: its own status rules
          if (code === null) this.setStatus(t.cls, t.user, { state: 'running', percent: 100, message: 'running' });
          else this.setStatus(t.cls, t.user, { state: 'dead', percent: 100, message: code === 255 ? 'host unreachable: it does not answer (the portal keeps asking every few seconds)' : `host gone (poll: ${code})` });
        }
      };
      await Promise.all(Array.from({ length: POLL_PARALLEL }, worker));
    } finally {
      this.polling = false;
    }
  }

  // --- spectate ------------------------------------------------------------------------

  /**
   * Every WebSocket upgrade comes here first. Default deny, as for HTTP: a path that
   * matches no WS entry of the route table is refused (404). The class sockets are
   * decided and handled here; false = the table's other WebSocket, the terminal
   * gateway's. The path is the raw request path, as the table sees it for HTTP: no
   * URL resolution (`/api/./class/...`, `//host/api/...` are not another spelling).
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const raw = req.url || '/';
    const q = raw.search(/[?#]/);
    const pathname = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1).split('#')[0]);
    const refuse = (status: number, why: string) => {
      const body = `${why}\n`;
      socket.write(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Tracelab-Refused: ${why.replace(/[^\x20-\x7e]/g, '?')}\r\n\r\n${body}`);
      socket.destroy();
    };
    const m = match('WS', pathname);
    if (!m) {
      refuse(404, `NOT_FOUND: no WebSocket at ${pathname.slice(0, 100).replace(/[^\x20-\x7e]/g, '?')}`);
      return true;
    }
    if (!m.route.path.startsWith('/api/class/')) return false;
    const caller = this.caller(this.auth.userOf(req));
    const d = decide(m.route, m.params, caller, this.studentOf);
    if (!d.ok) {
      refuse(d.status, `${d.code}: ${d.message}`);
      return true;
    }
    const origin = originAllowed(req);
    if (!origin.ok) {
      refuse(403, `ORIGIN_REJECTED: ${origin.why}`);
      return true;
    }
    const student = m.params.student;
    const size = clampSize(Number(query.get('cols')), Number(query.get('rows')));
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      this.spectate(ws, student, caller!, size).catch((e) => {
        if (ws.readyState === ws.OPEN) {
          ws.send(JSON.stringify({ t: 'error', code: e.code || 'INTERNAL', message: e.message || String(e) }));
          ws.close(1011, 'cannot spectate');
        }
      });
    });
    return true;
  }

  private async spectate(ws: import('ws').WebSocket, student: string, caller: NonNullable<Caller>, size: { cols: number; rows: number }): Promise<void> {
    ws.send(JSON.stringify({ t: 'status', state: 'starting' }));
    const host = await this.hosts.get(student);
    const shell = await host.openShell({ ...size, spectate: true });
    if (ws.readyState !== ws.OPEN) return shell.kill();
    ws.send(JSON.stringify({ t: 'status', state: 'attached', track: host.track }));
    const cls = caller.class!;
    new SpectateSession(ws, shell, {
      onControl: (active) => {
        if (active) this.takeovers.set(student, caller.id);
        else this.takeovers.delete(student);
        try {
          this.cs.addEvent({ user: student, kind: active ? 'takeover' : 'release', by: caller.id });
        } catch (e) {
          // The take-over itself works without its history line (a full disk): keep going.
          this.log(`class: could not record the ${active ? 'take-over' : 'release'} of ${student}: ${(e as Error).message}`);
        }
        this.bus.publish({ type: 'takeover', class: cls, user: student, active, by: caller.id });
      },
    });
  }

  close(): void {
    this.closed = true;
    this.offHostStatus();
    this.offCheck();
    clearInterval(this.poller);
    for (const ws of this.sockets) ws.close(1001, 'portal shutting down');
    this.wss.close();
  }
}

export function createClassMode(config: Config, store: Store, auth: Auth, hosts: Hosts, log: (m: string) => void, checks?: ChecksInFlight): ClassMode {
  return new ClassMode(config, store, auth, hosts, log, checks);
}

export type { ClassEventMsg };
