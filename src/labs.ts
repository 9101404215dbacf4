/**
 * Lab discovery: the lab list is derived from `labs/<id>/lab.json` on disk, never
 * from a hand-kept list. Used by the portal (lab pages) and by `tracelab check`.
 *
 * lab.json:
 * {
 *   "title": "Lab 1 — Find a bug",
 *   "summary": "one sentence for the lab list",
 *   "tracks": ["linux", "illumos"],          // tracks this lab has scripts for
 *   "needs": ["bpftrace", "node"],           // tools the lab uses (shown; checked by the checker)
 *   "steps": [
 *     { "id": "reproduce", "title": "See the bug", "text": "steps/01-reproduce.md" },
 *     { "id": "busiest-syscall", "title": "...", "text": "steps/02-x.md",
 *       "question": "Which syscall does the echo server make most per request?" },
 *     { "id": "fixed", "title": "Fix it", "text": "steps/05-fix.md", "check": true }
 *   ]
 * }
 * The lab id is the directory name (NN-slug). A step with "check": true is judged by
 * the lab's checker; a step with "question" takes an answer (`tracelab answer`).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Track } from '../portal/hosts/types';

export const LAB_ID_RE = /^[0-9]{2}-[a-z0-9][a-z0-9-]{0,40}$/;
export const STEP_ID_RE = /^[a-z0-9][a-z0-9-]{0,40}$/;

export interface LabStep {
  id: string;
  title: string;
  /** Markdown file, relative to the lab directory. */
  text: string;
  check?: boolean;
  question?: string;
}

export interface LabManifest {
  id: string;
  title: string;
  summary: string;
  tracks: Track[];
  needs: string[];
  steps: LabStep[];
  /** Absolute path of the lab directory. */
  dir: string;
}

/** The repository root (dist/src/labs.js and src/labs.ts are both two levels down). */
export const INSTALL_ROOT = path.resolve(__dirname, '..', fs.existsSync(path.join(__dirname, '..', 'package.json')) ? '' : '..');
/**
 * The labs served and judged: $TRACELAB_LABS when set (the portal sets it in students'
 * shells and for checks, so `tracelab check` judges against the labs the page showed),
 * else this installation's labs/.
 */
export const DEFAULT_LABS_ROOT = process.env.TRACELAB_LABS ? path.resolve(process.env.TRACELAB_LABS) : path.join(INSTALL_ROOT, 'labs');
export const DEFAULT_SOLUTIONS_ROOT = path.join(INSTALL_ROOT, 'solutions');

export class LabError extends Error {
  constructor(public readonly code: 'LAB_UNKNOWN' | 'LAB_INVALID', message: string) {
    super(message);
    this.name = 'LabError';
  }
}

function readManifest(dir: string, id: string): LabManifest {
  const file = path.join(dir, 'lab.json');
  let raw: any;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LabError('LAB_INVALID', `${file}: ${(e as Error).message}`);
  }
  const fail = (what: string) => {
    throw new LabError('LAB_INVALID', `${file}: ${what}`);
  };
  if (typeof raw.title !== 'string' || !raw.title) fail('"title" must be a non-empty string');
  if (!Array.isArray(raw.steps) || raw.steps.length === 0) fail('"steps" must be a non-empty array');
  const seen = new Set<string>();
  const steps: LabStep[] = raw.steps.map((s: any, i: number) => {
    if (!s || typeof s.id !== 'string' || !STEP_ID_RE.test(s.id)) fail(`steps[${i}].id must match ${STEP_ID_RE}`);
    if (seen.has(s.id)) fail(`steps[${i}].id "${s.id}" is repeated`);
    seen.add(s.id);
    if (typeof s.title !== 'string') fail(`steps[${i}].title must be a string`);
    if (typeof s.text !== 'string' || s.text.includes('..') || path.isAbsolute(s.text)) {
      fail(`steps[${i}].text must be a relative path inside the lab`);
    }
    return { id: s.id, title: s.title, text: s.text, check: !!s.check, question: typeof s.question === 'string' ? s.question : undefined };
  });
  const tracks: Track[] = Array.isArray(raw.tracks) ? raw.tracks.filter((t: string) => t === 'linux' || t === 'illumos') : ['linux'];
  return {
    id,
    title: raw.title,
    summary: typeof raw.summary === 'string' ? raw.summary : '',
    tracks,
    needs: Array.isArray(raw.needs) ? raw.needs.map(String) : [],
    steps,
    dir,
  };
}

/** Every lab under `root`, in id order. Invalid manifests throw (a broken lab is a bug to see). */
export function listLabs(root: string = DEFAULT_LABS_ROOT): LabManifest[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && LAB_ID_RE.test(e.name) && fs.existsSync(path.join(root, e.name, 'lab.json')))
    .map((e) => readManifest(path.join(root, e.name), e.name))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** One lab by id; the id is validated before it touches the filesystem. */
export function getLab(id: string, root: string = DEFAULT_LABS_ROOT): LabManifest {
  if (typeof id !== 'string' || !LAB_ID_RE.test(id) || !fs.existsSync(path.join(root, id, 'lab.json'))) {
    const known = listLabs(root).map((l) => l.id);
    throw new LabError('LAB_UNKNOWN', `unknown lab '${String(id).slice(0, 60)}' (labs: ${known.join(', ') || 'none'})`);
  }
  return readManifest(path.join(root, id), id);
}

/** Resolve a lab id given as "01", "1", "01-bug-hunt" or "bug-hunt". */
export function resolveLabId(given: string, root: string = DEFAULT_LABS_ROOT): string {
  const labs = listLabs(root);
  const exact = labs.find((l) => l.id === given);
  if (exact) return exact.id;
  const n = /^[0-9]{1,2}$/.test(given) ? given.padStart(2, '0') : null;
  const hit = labs.find((l) => (n && l.id.startsWith(n + '-')) || l.id.slice(3) === given);
  if (hit) return hit.id;
  throw new LabError('LAB_UNKNOWN', `unknown lab '${String(given).slice(0, 60)}' (labs: ${labs.map((l) => l.id).join(', ') || 'none'})`);
}
