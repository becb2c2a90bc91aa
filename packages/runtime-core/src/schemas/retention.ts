import * as v from 'valibot';
import { parseOrThrow } from '../validation.js';
import { durationMs } from './common.js';

/** A positive whole number of milliseconds (not a timer: a TTL may be months). */
const TtlSchema = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));

/** 24 hours, like Stripe's idempotency keys. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 86_400_000;

/** How often the retention sweep looks for expired data when no interval is given. */
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

/**
 * `RuntimeOptions.retention` (SPEC §13): how long history is kept. Memory use is bounded by live
 * state, not by history.
 */
export const RetentionOptionsSchema = v.strictObject({
  /** Stopped workers whose last event (their stop) is older than this are deleted (`deleteWorker`). */
  stopped_worker_ttl_ms: v.optional(TtlSchema),
  /** Idempotency records older than this expire: the same key is then a new input (default 24 h). */
  idempotency_ttl_ms: v.optional(TtlSchema),
  /** Persistent stores keep only about the newest this many events (the memory store: `limits.max_retained_events`). */
  max_retained_events: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  /** How often the background sweep runs (default 60 s; tests make it short). */
  sweep_interval_ms: v.optional(durationMs(1)),
});
export type RetentionOptions = v.InferInput<typeof RetentionOptionsSchema>;
/** Retention options with their defaults filled in. */
export type ResolvedRetention = v.InferOutput<typeof RetentionOptionsSchema> & {
  idempotency_ttl_ms: number;
  sweep_interval_ms: number;
};

/**
 * Validates retention options and fills in the defaults.
 * @throws RuntimeError `invalid_request`
 */
export function resolveRetention(options: unknown = {}): ResolvedRetention {
  const parsed = parseOrThrow(RetentionOptionsSchema, options, 'retention');
  return {
    ...parsed,
    idempotency_ttl_ms: parsed.idempotency_ttl_ms ?? DEFAULT_IDEMPOTENCY_TTL_MS,
    sweep_interval_ms: parsed.sweep_interval_ms ?? DEFAULT_SWEEP_INTERVAL_MS,
  };
}
