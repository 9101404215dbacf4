/**
 * The portal's error registry: every error a client can see has a stable code, an
 * HTTP status and a message for humans. Routes throw PortalError; the error handler
 * in app.ts turns it into `{error: {code, message}}`.
 */
import { isDiskFull } from '../store/full';

export const ERRORS = {
  AUTH_REQUIRED: 401,
  AUTH_BAD_TOKEN: 401,
  ORIGIN_REJECTED: 403,
  NOT_FOUND: 404,
  LAB_UNKNOWN: 404,
  LAB_INVALID: 500,
  STEP_UNKNOWN: 404,
  ARTIFACT_BAD_NAME: 400,
  ARTIFACT_MISSING: 404,
  ANSWER_INVALID: 400,
  CHECK_BUSY: 409,
  CHECK_ENVIRONMENT: 200,
  CHECK_OUTPUT: 200,
  CHECK_TIMEOUT: 200,
  HOST_UNREACHABLE: 503,
  HOST_START_FAILED: 503,
  HOST_NOT_STARTED: 503,
  HOST_MISSING_TOOL: 503,
  HOST_INTERNAL: 500,
  DATA_DIR_FULL: 507, // the portal's disk is full (portal/store/full.ts): reads still work
  BAD_REQUEST: 400,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class PortalError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PortalError';
  }
  get status(): number {
    return ERRORS[this.code];
  }
}

/** Map any thrown value to {status, code, message}; unknown errors are INTERNAL (and logged by the caller). */
export function toErrorBody(e: unknown): { status: number; code: string; message: string; internal: boolean } {
  const err = e as { code?: string; message?: string };
  if (err && typeof err.code === 'string' && err.code in ERRORS) {
    return { status: ERRORS[err.code as ErrorCode], code: err.code, message: err.message || err.code, internal: err.code === 'INTERNAL' || err.code === 'HOST_INTERNAL' };
  }
  // A write that was not mapped where the data dir is known (portal/store/full.ts): still not a 500.
  if (isDiskFull(e)) {
    const where = typeof (e as { path?: unknown }).path === 'string' ? ` (writing ${(e as { path: string }).path})` : '';
    return { status: ERRORS.DATA_DIR_FULL, code: 'DATA_DIR_FULL', message: `the portal's disk is full${where}, free space then retry`, internal: false };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error (see the portal log)', internal: true };
}
