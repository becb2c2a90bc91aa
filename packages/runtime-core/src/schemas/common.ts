import * as v from 'valibot';
import { ERROR_CODES } from '../errors.js';
import { ID_MAX_LENGTH, ID_PATTERN } from '../identity.js';

/** A runtime, worker or run id (SPEC §2). */
export const IdSchema = v.pipe(
  v.string(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(ID_MAX_LENGTH, `must be at most ${ID_MAX_LENGTH} characters`),
  v.regex(ID_PATTERN, "must contain only A-Z, a-z, 0-9, '.', '_' or '-' and start with a letter or digit"),
);

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what we reject.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** A human label (1–128 chars, no control characters). Never authority. */
export const DisplayNameSchema = v.pipe(
  v.string(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(128, 'must be at most 128 characters'),
  v.check((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters'),
);

/** ISO-8601 timestamp as written by the Runtime. */
export const TimestampSchema = v.string();

/** Node's timers overflow (and fire at once) above 2^31 - 1 ms (~24.8 days): every duration is capped there. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A duration in milliseconds that a timer can honour. */
export function durationMs(
  min: number,
): v.SchemaWithPipe<
  readonly [
    v.NumberSchema<undefined>,
    v.IntegerAction<number, undefined>,
    v.MinValueAction<number, number, undefined>,
    v.MaxValueAction<number, number, string>,
  ]
> {
  return v.pipe(
    v.number(),
    v.integer(),
    v.minValue(min),
    v.maxValue(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} ms`),
  );
}

/** A non-negative integer (counts, ids, sequences). */
export const CountSchema = v.pipe(v.number(), v.integer(), v.minValue(0));

/** `{ runtime_id, worker_id }`: the only authority that names a Worker. */
export const WorkerRefSchema = v.object({ runtime_id: IdSchema, worker_id: IdSchema });
export type WorkerRef = v.InferOutput<typeof WorkerRefSchema>;

/** Every code a Runtime error can carry. */
export const ErrorCodeSchema = v.picklist(ERROR_CODES);

/** The error envelope of every failed HTTP call: `{ error: { code, message, details? } }`. */
export const ErrorBodySchema = v.object({
  error: v.object({
    code: ErrorCodeSchema,
    message: v.string(),
    details: v.optional(v.record(v.string(), v.unknown())),
  }),
});
export type ErrorBody = v.InferOutput<typeof ErrorBodySchema>;

/** A bounded free-text reason (cancel, stop). */
export const ReasonSchema = v.pipe(v.string(), v.maxLength(1024, 'must be at most 1024 characters'));
