import * as v from 'valibot';
import { CountSchema, IdSchema, TimestampSchema, WorkerRefSchema } from './common.js';

/** Every kind of event the Runtime records. */
export const EVENT_KINDS = [
  'runtime_started',
  'runtime_stopping',
  'worker_created',
  'worker_input_accepted',
  'run_queued',
  'run_started',
  'transcript_appended',
  'run_completed',
  'run_failed',
  'run_cancelled',
  'run_timed_out',
  'run_interrupted',
  'worker_stopped',
  'worker_deleted',
  'diagnostic_recorded',
] as const;
export const EventKindSchema = v.picklist(EVENT_KINDS);
export type EventKind = v.InferOutput<typeof EventKindSchema>;

/** One entry of the runtime's event log; `id` is 1, 2, … per runtime, dense, never reused. */
export const RuntimeEventSchema = v.object({
  id: v.pipe(v.number(), v.integer(), v.minValue(1)),
  kind: EventKindSchema,
  worker_ref: v.optional(WorkerRefSchema),
  run_id: v.optional(IdSchema),
  message: v.string(),
  created_at: TimestampSchema,
  data: v.optional(v.record(v.string(), v.unknown())),
});
export type RuntimeEvent = v.InferOutput<typeof RuntimeEventSchema>;

/** `readEvents` query. Waits up to `wait_ms` only while nothing is after `after`. */
export const EventQuerySchema = v.strictObject({
  after: v.optional(CountSchema),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  worker_id: v.optional(IdSchema),
  wait_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});
export type EventQuery = v.InferInput<typeof EventQuerySchema>;

/** A batch of events; pass `next_after` as the next `after`. */
export const EventBatchSchema = v.object({
  runtime_id: IdSchema,
  items: v.array(RuntimeEventSchema),
  next_after: CountSchema,
  has_more: v.boolean(),
});
export type EventBatch = v.InferOutput<typeof EventBatchSchema>;
