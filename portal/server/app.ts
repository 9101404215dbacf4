/**
 * The portal: `buildApp(config)` wires store, auth, hosts, routes and the terminal
 * gateway into an http.Server without listening, so tests drive it in-process;
 * `listen()` is separate. Every route, static file and WebSocket upgrade needs the
 * session cookie, except the login URL itself.
 */
import express, { NextFunction, Request, Response } from 'express';
import * as http from 'http';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { INSTALL_ROOT, LabError } from '../../src/labs';
import type { Config } from '../../src/config';
import { openStore, Store } from '../store';
import { Auth, originAllowed, sessionCookie } from './auth';
import { Hosts } from './hosts';
import { apiRouter } from './api';
import { CheckQueue } from './check-queue';
import type { CheckResponse } from './check';
import { createTerminalGateway, TerminalGateway } from './terminal';
import { toErrorBody } from './errors';
import { createClassMode, ClassMode } from '../class';

export const PUBLIC_DIR = path.join(INSTALL_ROOT, 'portal', 'public');

export interface App {
  app: express.Express;
  server: http.Server;
  store: Store;
  auth: Auth;
  hosts: Hosts;
  terminal: TerminalGateway;
  /** Class mode: join links, route-table authorization, dashboard, spectate (portal/class). */
  classMode: ClassMode;
  /** Checks waiting and running (at most config.checkConcurrency at once). */
  checks: CheckQueue<CheckResponse>;
  /** A fresh one-time login token for the local learner. */
  issueLoginToken(user?: string): string;
  /** Listen on config.port/host (0 = a free port); resolves the base URL. */
  listen(): Promise<{ port: number; url: string }>;
  /** Stop accepting, detach every terminal (tmux sessions stay), close the store. */
  close(): Promise<void>;
}

// The portal's own pages: scripts and styles from this origin only; WebSocket back to it.
const PAGE_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

export function buildApp(config: Config, opts: { log?: (msg: string) => void } = {}): App {
  const log = opts.log ?? ((m: string) => console.error(m));
  const store = openStore(config.dataDir);
  const auth = new Auth(store);
  const hosts = new Hosts(config, store);
  const checks = new CheckQueue<CheckResponse>({ limit: config.checkConcurrency });
  const classMode = createClassMode(config, store, auth, hosts, log, checks);
  const app = express();
  // Routing must match paths exactly as the route table does (portal/class/routes.ts): express
  // is case-insensitive by default, and `/API/class/grid` would reach a handler the table never
  // decided on. Set before the first route (the app's router takes it when it is made). Not
  // strict: both accept one trailing slash. Routers made elsewhere pass { caseSensitive: true }.
  app.set('case sensitive routing', true);
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Content-Security-Policy': PAGE_CSP, 'X-Frame-Options': 'SAMEORIGIN' });
    next();
  });

  // Login: the one route that works without a cookie. The token leaves the URL at once.
  app.get('/', classMode.login);
  app.get('/', (req, res, next) => {
    if (req.query.token === undefined) return next();
    const user = auth.redeemToken(req.query.token);
    if (user) {
      res.setHeader('Set-Cookie', sessionCookie(auth.newSession(user)));
      return res.redirect(302, '/');
    }
    if (auth.userOf(req)) return res.redirect(302, '/');
    res.status(401).type('html').send(page401('This login link is not valid: each link works once, and only for the portal run that printed it. Start `tracelab serve` again for a fresh one.'));
  });

  app.use((req, res, next) => {
    const user = auth.userOf(req);
    if (!user) {
      if (req.path.startsWith('/api/')) return res.status(401).json({ error: { code: 'AUTH_REQUIRED', message: 'log in with the URL printed by `tracelab serve`' } });
      return res.status(401).type('html').send(page401('Open the login URL that `tracelab serve` printed in its terminal.'));
    }
    res.locals.user = user;
    // State-changing requests must come from our own pages (SameSite=Strict is the first line; this the second).
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const o = originAllowed(req);
      if (!o.ok && req.headers.origin !== undefined) return res.status(403).json({ error: { code: 'ORIGIN_REJECTED', message: o.why } });
      // A browser that sends no Origin still says where the request came from.
      const site = req.headers['sec-fetch-site'];
      if (site === 'cross-site' || site === 'same-site') return res.status(403).json({ error: { code: 'ORIGIN_REJECTED', message: `a ${site} request may not change anything here` } });
    }
    next();
  });

  app.use(classMode.authorize);
  app.use('/api', express.json({ limit: '4kb' }));
  app.post('/api/logout', (req, res) => {
    auth.endSession(req);
    res.setHeader('Set-Cookie', sessionCookie('', 0));
    res.json({ ok: true });
  });
  app.use('/api/class', classMode.router);
  app.use('/api', apiRouter(config, store, hosts, checks));

  const html = (file: string) => (_req: Request, res: Response) => res.sendFile(path.join(PUBLIC_DIR, file), { headers: { 'Cache-Control': 'no-store' } });
  app.get('/', html('index.html'));
  app.get('/labs/:lab', html('lab.html'));
  app.get('/class', classMode.page);
  app.use('/static', express.static(PUBLIC_DIR, { index: false, fallthrough: false }));

  app.use((req, res) => res.status(404).json({ error: { code: 'NOT_FOUND', message: `nothing at ${req.path.slice(0, 100)}` } }));
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((err: any, _req: Request, res: Response, _next: NextFunction) => {
    let body: { status: number; code: string; message: string; internal?: boolean };
    if (err instanceof LabError) body = { status: err.code === 'LAB_UNKNOWN' ? 404 : 500, code: err.code, message: err.message };
    else if (clientFault(err)) {
      // body-parser / serve-static errors (malformed JSON, a body too large, a missing file), and
      // express's URIError for an undecodable %-escape: the request's fault, said without file paths.
      const status = clientFault(err)!;
      body = { status, code: status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', message: status === 404 ? `nothing at ${_req.path.slice(0, 100)}` : String(err.message).slice(0, 200) };
    } else body = toErrorBody(err);
    if (body.internal) log(`portal: ${(err && err.stack) || err}`);
    if (!res.headersSent) res.status(body.status).json({ error: { code: body.code, message: body.message } });
  });

  const server = http.createServer(app);
  const terminal = createTerminalGateway(auth, hosts, log);
  server.on('upgrade', (req, socket, head) => classMode.handleUpgrade(req, socket, head) || terminal.handleUpgrade(req, socket, head));
  // Short keep-alive so close() is not held up by idle browser connections.
  server.keepAliveTimeout = 5000;

  return {
    app,
    server,
    store,
    auth,
    hosts,
    terminal,
    classMode,
    checks,
    issueLoginToken: (user = 'self') => auth.issueToken(user),
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const port = (server.address() as AddressInfo).port;
          // A wildcard bind is reachable at loopback too; print that (remote users put in the machine's name).
          const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
          const h = shown.includes(':') ? `[${shown}]` : shown;
          resolve({ port, url: `http://${h}:${port}/` });
        });
      }),
    close: () =>
      new Promise((resolve) => {
        terminal.closeAll();
        classMode.close();
        server.close(() => {
          store.close();
          resolve();
        });
        server.closeAllConnections?.();
      }),
  };
}

/** The 4xx status of an error caused by the request (not by the portal), or null. */
function clientFault(err: any): number | null {
  if (!err) return null;
  const st = typeof err.status === 'number' ? err.status : typeof err.statusCode === 'number' ? err.statusCode : null;
  // serve-static can pass the raw fs error of a path that cannot exist ('..../x', a 5000-byte name).
  if ((err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'ENAMETOOLONG') && typeof err.syscall === 'string') return 404;
  if (st !== null && st >= 400 && st < 500 && (err.expose || err instanceof URIError)) return st;
  return null;
}

function page401(why: string): string {
  return `<!doctype html><meta charset="utf-8"><title>tracelab — log in</title>
<body style="font:16px system-ui,sans-serif;background:#14161a;color:#e6e6e6;display:grid;place-items:center;height:100vh;margin:0">
<main style="max-width:34em"><h1 style="font-size:1.4em">tracelab: please log in</h1><p>${why.replace(/[<>&]/g, '')}</p></main>`;
}
