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
import * as fs from 'fs';

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

/** Free bytes on the file system of `dir` (for non-root writers); null when it cannot be told. */
function freeBytes(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/**
 * `e` as a DataDirFullError naming `dir` when it means a full disk; otherwise `e` itself.
 * SQLite reports some full-disk writes as I/O errors (opening a WAL database on a full
 * disk is SQLITE_IOERR_SHMSIZE, "disk I/O error"): an I/O error on a file system with
 * no space left is taken for what it most likely is.
 */
export function mapDiskFull(e: unknown, dir: string): unknown {
  if (e instanceof DataDirFullError) return e;
  if (isDiskFull(e)) return new DataDirFullError(dir, e);
  const code = e && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : '';
  if (code.startsWith('SQLITE_IOERR')) {
    const free = freeBytes(dir);
    if (free !== null && free < 64 * 1024) return new DataDirFullError(dir, e);
  }
  return e;
}
