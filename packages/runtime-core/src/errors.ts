/** Every error code a Runtime (or a layer over it) can report; SPEC §6. */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_request',
  'invalid_id',
  'limit_too_large',
  'unauthorized',
  'browser_access_denied',
  'forbidden_host',
  'worker_not_found',
  'run_not_found',
  'route_not_found',
  'method_not_allowed',
  'worker_busy',
  'queue_full',
  'worker_stopped',
  'duplicate_worker',
  'idempotency_conflict',
  'capacity_exceeded',
  'cursor_expired',
  'payload_too_large',
  'unsupported_media_type',
  'unsupported_capability',
  'unsupported_operation',
  'unknown_profile',
  'runtime_unavailable',
  'store_unavailable',
  'store_locked',
  'too_many_streams',
  'slow_consumer',
  'internal',
] as const;

/** A closed union of the codes in {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Structured, JSON-safe extra facts about an error (never paths, tokens or stacks). */
export type ErrorDetails = Record<string, unknown>;

/**
 * The one error type every Runtime method throws. Layers over core (HTTP, CLI) check `code`,
 * not `instanceof`, so errors survive crossing package copies and the wire.
 */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  /** Machine-readable reason, one of {@link ERROR_CODES}. */
  readonly code: ErrorCode;
  /** Extra facts for the caller, e.g. `active_run_id` on `worker_busy`. */
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: ErrorDetails; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  /** The wire shape of this error: `{ code, message, details? }`. */
  toJSON(): { code: ErrorCode; message: string; details?: ErrorDetails } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** True for any error carrying a known Runtime error `code` (a `RuntimeError` from any copy of core). */
export function isRuntimeError(error: unknown): error is RuntimeError {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}
