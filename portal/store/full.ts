/**
 * A full data directory, recognised in one place. The portal writes to its data
 * dir through SQLite (sessions, check results, class events: better-sqlite3 throws
 * SqliteError with code SQLITE_FULL) and through fs (workspaces, archives: ENOSPC,
 * or EDQUOT under a quota). Either way the user is told the same thing, with a
 * stable code (DATA_DIR_FULL, HTTP 507 Insufficient Storage) instead of a stack
 * trace, and the portal goes on serving reads.
 *
 * SQLite rolls back the statement that hit the full disk, so nothing stored
 * before is lost; the write works again once there is space.
 */

export const DATA_DIR_FULL = 'DATA_DIR_FULL';

export class DataDirFullError extends Error {
  readonly code = DATA_DIR_FULL;
  constructor(
    readonly dir: string,
    cause?: unknown,
  ) {
    super(`the portal's data directory is full: ${dir}, free space then retry`, { cause });
    this.name = 'DataDirFullError';
  }
}

/** Whether an error means "no space left" (SQLite's or the file system's). */
export function isDiskFull(e: unknown): boolean {
  const err = e as { code?: unknown } | null;
  if (!err || typeof err !== 'object') return false;
  if (err instanceof DataDirFullError) return true;
  const code = typeof err.code === 'string' ? err.code : '';
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

/** `e` as a DataDirFullError naming `dir` when it means a full disk; otherwise `e` itself. */
export function mapDiskFull(e: unknown, dir: string): unknown {
  if (e instanceof DataDirFullError) return e;
  return isDiskFull(e) ? new DataDirFullError(dir, e) : e;
}
