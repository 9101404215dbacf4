/**
 * The portal's SQLite store (better-sqlite3, WAL). Everything is keyed by a user id
 * so class mode can add students and instructors later; today there is one user,
 * `self`, the local learner.
 *
 * Schema changes go in MIGRATIONS (append only): each entry runs once, in a
 * transaction, and bumps PRAGMA user_version.
 */
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';
import { mapDiskFull } from './full';

const MIGRATIONS: string[] = [
  // 1: sessions, check results, answers, host state
  `
  CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,       -- sha256 of the cookie value; the cookie itself is never stored
    user       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE check_results (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user        TEXT NOT NULL,
    lab         TEXT NOT NULL,
    passed      INTEGER NOT NULL,
    exit_code   INTEGER,
    result_json TEXT,                  -- the CheckResult (with evidence), or NULL when the check could not run
    error_json  TEXT,                  -- {code, message} when it could not run
    created_at  INTEGER NOT NULL
  );
  CREATE INDEX check_results_user_lab ON check_results (user, lab, id);
  CREATE TABLE answers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user       TEXT NOT NULL,
    lab        TEXT NOT NULL,
    step       TEXT NOT NULL,
    value      TEXT NOT NULL,
    exit_code  INTEGER,
    output     TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE hosts (
    user       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    state_json TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 2: class mode (portal/class/): classes, their users with roles, one-time join links, class events
  `
  CREATE TABLE classes (
    name           TEXT PRIMARY KEY,
    backend        TEXT NOT NULL,          -- LabHost backend of the students' hosts
    inventory_json TEXT,                   -- per-student host details for ssh/vagrant
    created_at     INTEGER NOT NULL
  );
  CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    class      TEXT NOT NULL REFERENCES classes(name) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('student', 'instructor')),
    name       TEXT NOT NULL,
    email      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
  );
  CREATE TABLE join_tokens (
    hash       TEXT PRIMARY KEY,           -- sha256 of the token in the join link
    user       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    used_at    INTEGER                     -- set when redeemed: a link works once
  );
  CREATE TABLE class_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user        TEXT NOT NULL,             -- the student concerned
    kind        TEXT NOT NULL,             -- opened | takeover | release | reset
    lab         TEXT,
    by_user     TEXT,
    detail_json TEXT,
    created_at  INTEGER NOT NULL
  );
  CREATE INDEX class_events_user ON class_events (user, id);
  `,
];

export interface StoredCheck {
  id: number;
  user: string;
  lab: string;
  passed: boolean;
  exitCode: number | null;
  result: unknown;
  error: { code: string; message: string } | null;
  createdAt: number;
}

export class Store {
  readonly db: Database.Database;
  /** The data directory (where the database lives): named in DATA_DIR_FULL errors. */
  readonly dir: string;

  constructor(file: string) {
    this.dir = path.dirname(file);
    // The data dir holds every student's workspace and session hashes: owner only.
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    try {
      this.write(() => {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('foreign_keys = ON');
        this.db.pragma('busy_timeout = 5000');
        migrate(this.db);
      });
    } catch (e) {
      // e.g. a full disk at start: say so (DATA_DIR_FULL), and leave no handle open
      this.db.close();
      throw e;
    }
  }

  /**
   * Run a write; a full disk becomes DataDirFullError (DATA_DIR_FULL, portal/store/full.ts).
   * Every write to the database goes through here, class mode's included.
   */
  write<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw mapDiskFull(e, this.dir);
    }
  }

  close(): void {
    this.db.close();
  }

  // --- sessions -------------------------------------------------------------

  addSession(idHash: string, user: string, ttlMs: number): void {
    const now = Date.now();
    this.write(() => this.db.prepare('INSERT INTO sessions (id_hash, user, created_at, expires_at) VALUES (?, ?, ?, ?)').run(idHash, user, now, now + ttlMs));
  }

  /** The user of a live session, or null. Expired sessions are removed on the way. */
  sessionUser(idHash: string): string | null {
    const row = this.db.prepare('SELECT user, expires_at FROM sessions WHERE id_hash = ?').get(idHash) as { user: string; expires_at: number } | undefined;
    if (!row) return null;
    if (row.expires_at < Date.now()) {
      // Cleaning up is not worth failing a request over (a full disk): the row is expired either way.
      try {
        this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash);
      } catch {
        // tried again on the next request
      }
      return null;
    }
    return row.user;
  }

  deleteSession(idHash: string): void {
    this.write(() => this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash));
  }

  // --- check results ---------------------------------------------------------

  addCheck(c: { user: string; lab: string; passed: boolean; exitCode: number | null; result: unknown; error: { code: string; message: string } | null }): number {
    const r = this.write(() => this.db
      .prepare('INSERT INTO check_results (user, lab, passed, exit_code, result_json, error_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(c.user, c.lab, c.passed ? 1 : 0, c.exitCode, c.result === undefined ? null : JSON.stringify(c.result), c.error ? JSON.stringify(c.error) : null, Date.now()));
    const id = Number(r.lastInsertRowid);
    for (const cb of this.checkListeners) {
      try {
        cb({ id, user: c.user, lab: c.lab });
      } catch {
        // a listener's trouble is its own: the result is stored
      }
    }
    return id;
  }

  private readonly checkListeners = new Set<(c: { id: number; user: string; lab: string }) => void>();

  /**
   * Call `cb` after every check result is stored (class mode's dashboard: the grid cell
   * changes when the result exists, whoever is still waiting for it). Returns the unsubscribe.
   */
  onCheck(cb: (c: { id: number; user: string; lab: string }) => void): () => void {
    this.checkListeners.add(cb);
    return () => this.checkListeners.delete(cb);
  }

  lastCheck(user: string, lab: string): StoredCheck | null {
    const row = this.db.prepare('SELECT * FROM check_results WHERE user = ? AND lab = ? ORDER BY id DESC LIMIT 1').get(user, lab) as any;
    return row ? toCheck(row) : null;
  }

  // --- answers ---------------------------------------------------------------

  addAnswer(a: { user: string; lab: string; step: string; value: string; exitCode: number | null; output: string }): void {
    this.write(() => this.db
      .prepare('INSERT INTO answers (user, lab, step, value, exit_code, output, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(a.user, a.lab, a.step, a.value, a.exitCode, a.output, Date.now()));
  }

  // --- host state ------------------------------------------------------------

  saveHost(user: string, kind: string, state: Record<string, unknown>): void {
    this.write(() => this.db
      .prepare('INSERT INTO hosts (user, kind, state_json, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(user) DO UPDATE SET kind = excluded.kind, state_json = excluded.state_json, updated_at = excluded.updated_at')
      .run(user, kind, JSON.stringify(state), Date.now()));
  }

  loadHost(user: string): { kind: string; state: Record<string, unknown> } | null {
    const row = this.db.prepare('SELECT kind, state_json FROM hosts WHERE user = ?').get(user) as { kind: string; state_json: string } | undefined;
    return row ? { kind: row.kind, state: JSON.parse(row.state_json) } : null;
  }
}

function toCheck(row: any): StoredCheck {
  return {
    id: row.id,
    user: row.user,
    lab: row.lab,
    passed: !!row.passed,
    exitCode: row.exit_code,
    result: row.result_json ? JSON.parse(row.result_json) : null,
    error: row.error_json ? JSON.parse(row.error_json) : null,
    createdAt: row.created_at,
  };
}

/** Run the migrations this database has not seen yet. */
export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this tracelab (${MIGRATIONS.length}); upgrade tracelab`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return MIGRATIONS.length;
}

export function openStore(dataDir: string): Store {
  return new Store(path.join(dataDir, 'tracelab.db'));
}
