import { type ErrorCode, type ErrorDetails, isRuntimeError, RuntimeError } from '@worker-runtime/core';
import type { LogEntry } from './log.js';
import { jsonReply, type Reply } from './reply.js';
import { wireText } from './wire-text.js';

/** The HTTP status every error `code` maps to (SPEC §6). */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  invalid_json: 400,
  invalid_request: 400,
  invalid_id: 400,
  limit_too_large: 400,
  unauthorized: 401,
  browser_access_denied: 403,
  forbidden_host: 403,
  insufficient_scope: 403,
  worker_not_found: 404,
  run_not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  worker_busy: 409,
  queue_full: 409,
  worker_stopped: 409,
  worker_not_stopped: 409,
  duplicate_worker: 409,
  idempotency_conflict: 409,
  capacity_exceeded: 409,
  cursor_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unsupported_capability: 422,
  unsupported_operation: 422,
  unknown_profile: 422,
  runtime_unavailable: 503,
  store_unavailable: 503,
  store_locked: 503,
  too_many_streams: 503,
  // Only ever ends a stream that already started (the HTTP layer closes it); 503 if it is ever answered.
  slow_consumer: 503,
  internal: 500,
});

/** Seconds a client should wait before retrying a 503 (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 5;

/** Extra response headers an error carries on the wire. */
export type ErrorHeaders = Record<string, string>;

/** A RuntimeError that also says which response headers it needs (`Allow`, `WWW-Authenticate`). */
export class HttpRuntimeError extends RuntimeError {
  /** Headers added to the error response. */
  readonly headers: ErrorHeaders;

  constructor(code: ErrorCode, message: string, headers: ErrorHeaders, details?: ErrorDetails) {
    super(code, message, details === undefined ? {} : { details });
    this.headers = headers;
  }
}

/** The JSON error response for `error`, plus what to log about it. */
export interface ErrorOutcome {
  reply: Reply;
  status: number;
  code: ErrorCode;
  /** Set for unexpected errors: what the operator's log gets (never sent to the client). */
  internal?: LogEntry;
}

// Absolute POSIX or Windows paths: stripped from anything we log about an unexpected error.
const PATH_LIKE = /(?:[A-Za-z]:)?[\\/][^\s'"`]*[\\/][^\s'"`]*/g;

function redact(text: string): string {
  return text.replace(PATH_LIKE, '<path>');
}

// Bounds on what an error echoes: a message, an issue path or message, and the number of issues.
const MAX_MESSAGE = 500;
const MAX_ISSUE_TEXT = 120;
const MAX_ISSUES = 50;

function wireDetails(details: ErrorDetails): ErrorDetails {
  const issues = details.issues;
  if (!Array.isArray(issues)) return details;
  return {
    ...details,
    issues: issues.slice(0, MAX_ISSUES).map((issue: { path?: unknown; message?: unknown }) => ({
      path: wireText(String(issue.path ?? ''), MAX_ISSUE_TEXT),
      message: wireText(String(issue.message ?? ''), MAX_ISSUE_TEXT),
    })),
  };
}

/** 503 codes that carry `Retry-After`. */
const RETRY_CODES: ReadonlySet<ErrorCode> = new Set([
  'runtime_unavailable',
  'store_unavailable',
  'store_locked',
  'too_many_streams',
]);

/**
 * Maps any thrown value to its JSON error response: RuntimeErrors by `code`, anything else to a
 * 500 `internal` whose message names only the request id (the cause goes to the log, redacted).
 * Messages and issues are escaped and bounded ({@link wireText}): they may echo client-chosen names.
 */
export function errorOutcome(error: unknown, requestId: string): ErrorOutcome {
  if (isRuntimeError(error)) {
    const status = ERROR_STATUS[error.code];
    const headers: Record<string, string> = {};
    if (error instanceof HttpRuntimeError) Object.assign(headers, error.headers);
    if (RETRY_CODES.has(error.code)) {
      headers['retry-after'] = String(RETRY_AFTER_SECONDS);
    }
    const message = wireText(error.message, MAX_MESSAGE);
    const body = {
      error:
        error.details === undefined
          ? { code: error.code, message }
          : { code: error.code, message, details: wireDetails(error.details) },
    };
    return { reply: jsonReply(status, body, requestId, headers), status, code: error.code };
  }
  const name = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  const reply = jsonReply(
    500,
    { error: { code: 'internal', message: `internal error (request id ${requestId})` } },
    requestId,
  );
  return {
    reply,
    status: 500,
    code: 'internal',
    internal: {
      level: 'error',
      msg: `unexpected ${name}: ${wireText(redact(message), MAX_MESSAGE)}`,
      request_id: requestId,
      code: 'internal',
    },
  };
}
