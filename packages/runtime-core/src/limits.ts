import * as v from 'valibot';
import { RuntimeError } from './errors.js';
import { type Limits, PartialLimitsSchema } from './schemas/runtime.js';

/** SPEC §11 defaults. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  max_workers: 10_000,
  max_input_bytes: 1024 * 1024,
  max_body_bytes: 2 * 1024 * 1024,
  max_transcript_page: 1000,
  max_event_batch: 1000,
  max_list_page: 1000,
  max_queued_inputs: 16,
  max_diagnostics: 1000,
  max_wait_ms: 60_000,
  max_retained_events: 100_000,
  cancel_grace_ms: 2000,
  max_streams: 1000,
  max_stream_buffer_bytes: 1024 * 1024,
});

/** The page size of worker lists, run lists and event batches when none is asked for. */
export const DEFAULT_PAGE_SIZE = 100;
/** The page size of transcripts when none is asked for. */
export const DEFAULT_TRANSCRIPT_PAGE_SIZE = 256;

/**
 * Merges user limits over the defaults.
 * @throws RuntimeError `invalid_request` when a limit is not a valid number
 */
export function resolveLimits(partial: unknown = {}): Limits {
  const parsed = v.safeParse(PartialLimitsSchema, partial);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = issue ? v.getDotPath(issue) : null;
    throw new RuntimeError(
      'invalid_request',
      `invalid limits${path ? ` (${path})` : ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const defined = Object.fromEntries(Object.entries(parsed.output).filter(([, value]) => value !== undefined));
  return { ...DEFAULT_LIMITS, ...defined };
}

/**
 * Resolves a requested page size against its maximum; none means `preferred`, clamped to the maximum.
 * @throws RuntimeError `limit_too_large` above the maximum
 */
export function pageLimit(requested: number | undefined, max: number, preferred: number): number {
  if (requested === undefined) return Math.min(max, preferred);
  if (requested > max) {
    throw new RuntimeError('limit_too_large', `limit ${requested} is above the maximum of ${max}`, {
      details: { max },
    });
  }
  return requested;
}
