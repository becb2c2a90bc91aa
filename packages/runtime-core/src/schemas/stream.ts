import * as v from 'valibot';
import { CountSchema, IdSchema, WorkerRefSchema } from './common.js';
import type { RuntimeEvent } from './event.js';

/**
 * A piece of the entry a run is producing (SPEC §12): not durable, not an event, no event id.
 * `entry` numbers the run's output entries (0, 1, …); `offset` is how many characters of that entry
 * were streamed before `content`. A catch-up delta has offset 0 and holds the entry's text so far.
 */
export const OutputDeltaSchema = v.object({
  worker_ref: WorkerRefSchema,
  run_id: IdSchema,
  entry: CountSchema,
  offset: CountSchema,
  content: v.string(),
});
export type OutputDelta = v.InferOutput<typeof OutputDeltaSchema>;

/** What a watch covers and where it starts; see `Runtime#watch`. */
export const WatchQuerySchema = v.strictObject({
  /** Replay durable events after this id; omitted: only what happens from now on (like `tail -f`). */
  after: v.optional(CountSchema),
  /** Only this worker's events and deltas. */
  worker_id: v.optional(IdSchema),
  /** Only this run's events and deltas (needs `worker_id`); the watch ends after its terminal event. */
  run_id: v.optional(IdSchema),
});
export type WatchQuery = v.InferInput<typeof WatchQuerySchema>;

/** A durable event, as a watch yields it. */
export interface WatchEventItem {
  readonly type: 'event';
  readonly event: RuntimeEvent;
}

/** An output delta, as a watch yields it. */
export type WatchDeltaItem = { readonly type: 'delta' } & Readonly<OutputDelta>;

/** One item of a watch: a durable event or an output delta. */
export type WatchItem = WatchEventItem | WatchDeltaItem;
