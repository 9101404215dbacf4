/**
 * Login and sessions.
 *
 * `tracelab serve` prints a URL with a fresh one-time token (as Jupyter does). Only
 * the token's sha256 is kept, in memory; it is compared in constant time. Opening the
 * URL swaps the token for a session cookie (HttpOnly, SameSite=Strict) whose sha256
 * is stored in SQLite, so a session survives a portal restart. Everything else —
 * every route, static file and WebSocket upgrade — needs that cookie.
 */
import * as crypto from 'crypto';
import type { IncomingMessage } from 'http';
import type { Store } from '../store';

export const COOKIE = 'tracelab_session';
export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;

export function sha256(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

export class Auth {
  /** Hashes of login tokens not used yet, with the user each logs in. */
  private tokens: { hash: Buffer; user: string }[] = [];

  constructor(private readonly store: Store) {}

  /** A fresh one-time login token for `user` (printed in the URL, never stored in clear). */
  issueToken(user = 'self'): string {
    const token = crypto.randomBytes(24).toString('base64url');
    this.tokens.push({ hash: sha256(token), user });
    return token;
  }

  /** Consume a token: the user it logs in, or null. Constant time in the token's content. */
  redeemToken(token: unknown): string | null {
    if (typeof token !== 'string' || token.length > 200) return null;
    const h = sha256(token);
    let hit = -1;
    // Compare against every entry (no early exit) so timing says nothing about which matched.
    this.tokens.forEach((t, i) => {
      if (crypto.timingSafeEqual(t.hash, h)) hit = i;
    });
    if (hit < 0) return null;
    const { user } = this.tokens[hit];
    this.tokens.splice(hit, 1);
    return user;
  }

  /** Start a session; returns the cookie value. */
  newSession(user: string): string {
    const id = crypto.randomBytes(32).toString('base64url');
    this.store.addSession(sha256(id).toString('hex'), user, SESSION_TTL_MS);
    return id;
  }

  /**
   * The user behind a request's session cookie, or null. The lookup is by the
   * cookie's hash, so timing can only reveal hash prefixes, which do not help forge one.
   */
  userOf(req: IncomingMessage): string | null {
    const id = readCookie(req.headers.cookie, COOKIE);
    if (!id || id.length > 100) return null;
    return this.store.sessionUser(sha256(id).toString('hex'));
  }

  endSession(req: IncomingMessage): void {
    const id = readCookie(req.headers.cookie, COOKIE);
    if (id) this.store.deleteSession(sha256(id).toString('hex'));
  }
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return null;
    }
  }
  return null;
}

export function sessionCookie(value: string, maxAgeMs = SESSION_TTL_MS): string {
  return `${COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(maxAgeMs / 1000)}`;
}

/**
 * Origin rule for WebSocket upgrades and state-changing requests: the page must come
 * from this very portal (same scheme-less host:port as the Host header).
 */
export function originAllowed(req: IncomingMessage): { ok: true } | { ok: false; why: string } {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin) return { ok: false, why: 'no Origin header' };
  if (!host) return { ok: false, why: 'no Host header' };
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return { ok: false, why: `malformed Origin '${origin.slice(0, 80)}'` };
  }
  if ((o.protocol !== 'http:' && o.protocol !== 'https:') || o.host !== host) {
    return { ok: false, why: `Origin '${origin.slice(0, 80)}' is not this portal (${host})` };
  }
  return { ok: true };
}
