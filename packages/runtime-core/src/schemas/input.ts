import * as v from 'valibot';
import { CountSchema, durationMs, IdSchema, ReasonSchema, WorkerRefSchema } from './common.js';
import { RunStatusSchema } from './run.js';
import { WorkerStatusSchema } from './worker.js';

/** What to do with a user input while a run is active. */
export const BusyPolicySchema = v.picklist(['reject', 'enqueue', 'interrupt']);
export type BusyPolicy = v.InferOutput<typeof BusyPolicySchema>;

/**
 * `POST .../input` body. `content` must also fit `limits.max_input_bytes` (UTF-8), which the
 * Runtime checks because the limit is configurable.
 */
export const InputRequestSchema = v.strictObject({
  kind: v.picklist(['user', 'system']),
  content: v.pipe(v.string(), v.minLength(1, 'must not be empty')),
  on_busy: v.optional(BusyPolicySchema),
  idempotency_key: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
  timeout_ms: v.optional(durationMs(1)),
  /**
   * Over REST: answer with the run's live stream instead of the JSON ack (SPEC §12). Not part of
   * the input: the Runtime ignores it and it does not count for idempotency.
   */
  stream: v.optional(v.boolean()),
});
export type InputRequest = v.InferInput<typeof InputRequestSchema>;

/** What `sendInput` answers once the input is durable. */
export const InputAckSchema = v.object({
  worker_ref: WorkerRefSchema,
  status: WorkerStatusSchema,
  run_id: v.nullable(IdSchema),
  run_status: v.nullable(RunStatusSchema),
  transcript_sequence: v.nullable(CountSchema),
  queue_position: v.nullable(CountSchema),
  event_id: CountSchema,
  replayed: v.boolean(),
});
export type InputAck = v.InferOutput<typeof InputAckSchema>;

/** `cancel` / `stop` body; may be empty. */
export const ControlRequestSchema = v.strictObject({ reason: v.optional(ReasonSchema) });
export type ControlRequest = v.InferInput<typeof ControlRequestSchema>;

/** What `cancelWorker` / `stopWorker` answer. `run_id` is the run that was cancelled, or null. */
export const ControlAckSchema = v.object({
  worker_ref: WorkerRefSchema,
  status: WorkerStatusSchema,
  run_id: v.nullable(IdSchema),
  /** The event that recorded the effect; null when nothing changed (cancel with no active run). */
  event_id: v.nullable(CountSchema),
});
export type ControlAck = v.InferOutput<typeof ControlAckSchema>;
