/**
 * The JSON API under /api (all behind the session cookie; see app.ts).
 *
 *   GET  /api/labs                         {track, labs: [{id, title, summary, tracks, needs, steps}]}
 *   GET  /api/labs/:lab                    {id, title, track, steps: [{id, title, check, question, html}]}
 *   GET  /api/labs/:lab/check              the last stored check result, or null
 *   POST /api/labs/:lab/check              run `tracelab check` on the host → CheckResponse (check.ts), when
 *                                          the check queue gives it a slot (check-queue.ts); pressed again
 *                                          while in flight: the same answer
 *   GET  /api/labs/:lab/check/status       my check in flight: {lab, state: queued|running, position, ...} or null
 *   POST /api/labs/:lab/answers/:step      {value} → run `tracelab answer` → {ok, exitCode, output}
 *   GET  /api/labs/:lab/artifacts/:name    <workspace>/<lab>/out/<name>, sandboxed
 *   (WebSocket) /api/terminal?cols&rows    the terminal (terminal.ts)
 *
 * Errors are {error: {code, message}} with the codes in errors.ts.
 */
import express, { Request, Response, NextFunction } from 'express';
import * as fs from 'fs';
import * as path from 'path';
import { getLab, listLabs, LabManifest } from '../../src/labs';
import type { Config } from '../../src/config';
import type { Store } from '../store';
import type { Hosts } from './hosts';
import { PortalError } from './errors';
import { renderMarkdown, ARTIFACT_RE, ARTIFACT_RULE } from './markdown';
import { runCheck, tail, CheckResponse } from './check';
import type { CheckQueue } from './check-queue';

const ANSWER_MAX = 200;
const ARTIFACT_MAX_BYTES = 20 * 1024 * 1024;
const ARTIFACT_TYPES: Record<string, string> = {
  svg: 'image/svg+xml',
  txt: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  // Folded stacks: text the lab page parses and draws (never rendered as a document).
  folded: 'text/plain; charset=utf-8',
};

type Handler = (req: Request, res: Response) => Promise<unknown> | unknown;
const wrap = (h: Handler) => (req: Request, res: Response, next: NextFunction) => {
  Promise.resolve()
    .then(() => h(req, res))
    .catch(next);
};
const userOf = (res: Response): string => res.locals.user as string;

export function apiRouter(config: Config, store: Store, hosts: Hosts, checks: CheckQueue<CheckResponse>): express.Router {
  // Case-sensitive like the route table (portal/class/routes.ts): a router does not inherit the app's setting.
  const r = express.Router({ caseSensitive: true });
  const lab = (id: string): LabManifest => getLab(id, config.labsDir);

  r.get('/labs', wrap((_req, res) => {
    res.json({
      track: hosts.track(userOf(res)),
      labs: listLabs(config.labsDir).map((l) => ({ id: l.id, title: l.title, summary: l.summary, tracks: l.tracks, needs: l.needs, steps: l.steps.length })),
    });
  }));

  r.get('/labs/:lab', wrap((req, res) => {
    const l = lab(req.params.lab);
    const track = hosts.track(userOf(res));
    const steps = l.steps.map((s) => {
      const file = path.join(l.dir, s.text);
      let html: string;
      try {
        html = renderMarkdown(fs.readFileSync(file, 'utf8'), track);
      } catch (e) {
        html = `<p class="md-error">This step's text (${s.text}) could not be read: ${(e as Error).message.replace(/[<>&]/g, '')}</p>`;
      }
      return { id: s.id, title: s.title, check: !!s.check, question: s.question ?? null, html };
    });
    res.json({ id: l.id, title: l.title, summary: l.summary, tracks: l.tracks, needs: l.needs, track, steps });
  }));

  r.get('/labs/:lab/check', wrap((req, res) => {
    const l = lab(req.params.lab);
    const c = store.lastCheck(userOf(res), l.id);
    res.json(c ? { ok: !c.error, lab: l.id, exitCode: c.exitCode, checkedAt: c.createdAt, result: c.result ?? undefined, error: c.error ?? undefined } : null);
  }));

  r.get('/labs/:lab/check/status', wrap((req, res) => {
    const l = lab(req.params.lab);
    const s = checks.status(userOf(res));
    res.json(s && s.lab === l.id ? s : null);
  }));

  r.post('/labs/:lab/check', wrap(async (req, res) => {
    const l = lab(req.params.lab);
    const user = userOf(res);
    const host = await hosts.get(user);
    res.json(await checks.submit(user, l.id, () => runCheck(host, store, user, l.id)).promise);
  }));

  r.post('/labs/:lab/answers/:step', wrap(async (req, res) => {
    const l = lab(req.params.lab);
    const step = l.steps.find((s) => s.id === req.params.step);
    if (!step || !step.question) throw new PortalError('STEP_UNKNOWN', `lab ${l.id} has no question step '${String(req.params.step).slice(0, 40)}'`);
    const value = req.body && req.body.value;
    if (typeof value !== 'string' || !value.trim() || value.length > ANSWER_MAX || /[\u0000-\u001f\u007f]/.test(value)) {
      throw new PortalError('ANSWER_INVALID', `an answer is one line of 1..${ANSWER_MAX} characters`);
    }
    const user = userOf(res);
    const host = await hosts.get(user);
    const x = await host.exec(['tracelab', 'answer', l.id, step.id, value.trim(), '--dir', `${host.workspace}/${l.id}`], { timeoutMs: 30_000, maxOutputBytes: 64 * 1024 });
    const output = tail(`${x.stdout}\n${x.stderr}`, 20);
    store.addAnswer({ user, lab: l.id, step: step.id, value: value.trim(), exitCode: x.code, output });
    res.json({ ok: x.code === 0, exitCode: x.code, output });
  }));

  r.get('/labs/:lab/artifacts/:name', wrap(async (req, res) => {
    const l = lab(req.params.lab);
    const name = req.params.name;
    if (!ARTIFACT_RE.test(name)) throw new PortalError('ARTIFACT_BAD_NAME', `artifact names are ${ARTIFACT_RULE}`);
    const host = await hosts.get(userOf(res));
    const rel = `${l.id}/out/${name}`;
    const body = await readArtifact(host.kind, host.workspace, rel, (argv) => host.exec(argv, { timeoutMs: 15_000, maxOutputBytes: ARTIFACT_MAX_BYTES }));
    if (body === null) throw new PortalError('ARTIFACT_MISSING', `${rel} is not there yet: run the step that makes it, then press the button again`);
    res.set({
      'Content-Type': ARTIFACT_TYPES[name.split('.').pop()!],
      // The artifact is made by the student's tools: sandbox it (scripts allowed for
      // interactive flame graphs, but no same-origin access to the portal or its cookie).
      'Content-Security-Policy': 'sandbox allow-scripts',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    });
    res.send(body);
  }));

  r.use((_req, _res, next) => next(new PortalError('NOT_FOUND', 'no such API route')));
  return r;
}

/** Backends whose workspace is a directory on this machine (the portal reads it itself). */
const LOCAL_WORKSPACE = new Set(['local', 'local-user']);

/**
 * An artifact's bytes, or null when it does not exist. Symlinks may not lead out of the workspace.
 *
 * A workspace on this machine is read by the portal (root, in class mode), never through the
 * host's exec: a student's `out/x.svg -> <data>/tracelab.db`, `-> /etc/shadow` or `-> another
 * student's workspace` would be read with the portal's rights. The file is opened first and the
 * path of what was opened (/proc/self/fd) is what must be inside the workspace, so swapping a
 * directory for a symlink between the check and the read changes nothing. A remote host (ssh,
 * vagrant) is the student's own machine: read there through its exec.
 */
async function readArtifact(kind: string, workspace: string, rel: string, exec: (argv: string[]) => Promise<{ code: number | null; stdout: string }>): Promise<Buffer | null> {
  const file = path.join(workspace, rel);
  if (!LOCAL_WORKSPACE.has(kind)) {
    const r = await exec(['cat', '--', file]);
    return r.code === 0 ? Buffer.from(r.stdout, 'utf8') : null;
  }
  let root: string;
  try {
    root = fs.realpathSync(workspace);
  } catch {
    return null;
  }
  const inside = (p: string) => p.startsWith(root + path.sep);
  // Checked before opening too: opening a device or a FIFO out there is not harmless.
  try {
    if (!inside(fs.realpathSync(file))) return null;
  } catch {
    return null;
  }
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch {
    return null;
  }
  try {
    let opened: string;
    try {
      opened = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      opened = fs.realpathSync(file); // no /proc: the check above, once more
    }
    if (!inside(opened)) return null;
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > ARTIFACT_MAX_BYTES) return null;
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
