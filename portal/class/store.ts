/**
 * Class mode's tables (migration 2 in portal/store/index.ts), read and written
 * through the portal's one SQLite connection. Join tokens are stored as sha256
 * hex; the token itself only ever exists in the join link.
 */
import * as crypto from 'crypto';
import type { Store } from '../store';

export type Role = 'student' | 'instructor';

export interface ClassRow {
  name: string;
  backend: string;
  inventory: Record<string, Record<string, unknown>> | null;
  createdAt: number;
}

export interface UserRow {
  id: string;
  class: string;
  role: Role;
  name: string;
  email: string;
}

export interface ClassEvent {
  id: number;
  user: string;
  kind: 'opened' | 'takeover' | 'release' | 'reset';
  lab: string | null;
  by: string | null;
  detail: unknown;
  createdAt: number;
}

export const CLASS_RE = /^[a-z0-9][a-z0-9-]{0,30}$/;

const hashHex = (token: string) => crypto.createHash('sha256').update(token, 'utf8').digest('hex');

export class ClassStore {
  constructor(readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  addClass(c: { name: string; backend: string; inventory: ClassRow['inventory']; users: UserRow[] }): void {
    const now = Date.now();
    this.store.write(() => this.db.transaction(() => {
      this.db.prepare('INSERT INTO classes (name, backend, inventory_json, created_at) VALUES (?, ?, ?, ?)').run(c.name, c.backend, c.inventory ? JSON.stringify(c.inventory) : null, now);
      const ins = this.db.prepare('INSERT INTO users (id, class, role, name, email, created_at) VALUES (?, ?, ?, ?, ?, ?)');
      for (const u of c.users) ins.run(u.id, c.name, u.role, u.name, u.email, now);
    })());
  }

  classes(): ClassRow[] {
    return (this.db.prepare('SELECT * FROM classes ORDER BY created_at').all() as any[]).map(toClass);
  }

  getClass(name: string): ClassRow | null {
    const row = this.db.prepare('SELECT * FROM classes WHERE name = ?').get(name) as any;
    return row ? toClass(row) : null;
  }

  /** Remove a class and everything keyed by its users (sessions, results, hosts, events). */
  removeClass(name: string): void {
    this.store.write(() => this.db.transaction(() => {
      const ids = this.users(name).map((u) => u.id);
      for (const t of ['sessions', 'check_results', 'answers', 'hosts', 'class_events']) {
        const del = this.db.prepare(`DELETE FROM ${t} WHERE user = ?`);
        for (const id of ids) del.run(id);
      }
      this.db.prepare('DELETE FROM classes WHERE name = ?').run(name);
    })());
  }

  user(id: string): UserRow | null {
    return (this.db.prepare('SELECT id, class, role, name, email FROM users WHERE id = ?').get(id) as UserRow | undefined) ?? null;
  }

  users(className: string, role?: Role): UserRow[] {
    const rows = this.db.prepare('SELECT id, class, role, name, email FROM users WHERE class = ? ORDER BY role DESC, id').all(className) as UserRow[];
    return role ? rows.filter((u) => u.role === role) : rows;
  }

  /** A fresh one-time join token for a user; any older unused ones stop working. */
  issueJoinToken(user: string): string {
    const token = crypto.randomBytes(24).toString('base64url');
    this.store.write(() => this.db.transaction(() => {
      this.db.prepare('DELETE FROM join_tokens WHERE user = ? AND used_at IS NULL').run(user);
      this.db.prepare('INSERT INTO join_tokens (hash, user, created_at) VALUES (?, ?, ?)').run(hashHex(token), user, Date.now());
    })());
    return token;
  }

  /**
   * Redeem a join token: the user it logs in, or null when unknown or used. The
   * lookup is by the token's hash, so timing reveals at most hash prefixes.
   */
  redeemJoinToken(token: unknown): string | null {
    if (typeof token !== 'string' || token.length > 200) return null;
    const h = hashHex(token);
    const r = this.store.write(() => this.db.prepare('UPDATE join_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL RETURNING user').get(Date.now(), h)) as { user: string } | undefined;
    return r ? r.user : null;
  }

  addEvent(e: { user: string; kind: ClassEvent['kind']; lab?: string | null; by?: string | null; detail?: unknown }): ClassEvent {
    const now = Date.now();
    const r = this.store.write(() => this.db
      .prepare('INSERT INTO class_events (user, kind, lab, by_user, detail_json, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.user, e.kind, e.lab ?? null, e.by ?? null, e.detail === undefined ? null : JSON.stringify(e.detail), now));
    return { id: Number(r.lastInsertRowid), user: e.user, kind: e.kind, lab: e.lab ?? null, by: e.by ?? null, detail: e.detail ?? null, createdAt: now };
  }

  /** Labs a user has opened (the dashboard's "in progress" before any check). */
  openedLabs(user: string): Set<string> {
    const rows = this.db.prepare("SELECT DISTINCT lab FROM class_events WHERE user = ? AND kind = 'opened' AND lab IS NOT NULL").all(user) as { lab: string }[];
    return new Set(rows.map((r) => r.lab));
  }

  lastEvent(user: string, kinds: ClassEvent['kind'][]): ClassEvent | null {
    const row = this.db.prepare(`SELECT * FROM class_events WHERE user = ? AND kind IN (${kinds.map(() => '?').join(',')}) ORDER BY id DESC LIMIT 1`).get(user, ...kinds) as any;
    return row ? { id: row.id, user: row.user, kind: row.kind, lab: row.lab, by: row.by_user, detail: row.detail_json ? JSON.parse(row.detail_json) : null, createdAt: row.created_at } : null;
  }

  /** Latest check per (user, lab) for a class's students. */
  lastChecks(className: string): { user: string; lab: string; passed: boolean; exitCode: number | null; result: any; error: any; createdAt: number }[] {
    const rows = this.db
      .prepare(
        `SELECT c.* FROM check_results c JOIN users u ON u.id = c.user
         WHERE u.class = ? AND c.id = (SELECT MAX(id) FROM check_results WHERE user = c.user AND lab = c.lab)`,
      )
      .all(className) as any[];
    return rows.map((r) => ({ user: r.user, lab: r.lab, passed: !!r.passed, exitCode: r.exit_code, result: r.result_json ? JSON.parse(r.result_json) : null, error: r.error_json ? JSON.parse(r.error_json) : null, createdAt: r.created_at }));
  }
}

function toClass(row: any): ClassRow {
  return { name: row.name, backend: row.backend, inventory: row.inventory_json ? JSON.parse(row.inventory_json) : null, createdAt: row.created_at };
}
