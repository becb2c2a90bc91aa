import * as v from 'valibot';
import { CountSchema, IdSchema, TimestampSchema } from './common.js';

/** `queued` → `running` → one terminal status. */
export const RunStatusSchema = v.picklist([
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
  'timed_out',
  'interrupted',
]);
export type RunStatus = v.InferOutput<typeof RunStatusSchema>;

/** Run statuses after which nothing changes. */
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = [
  'completed',
  'failed',
  'cancelled',
  'timed_out',
  'interrupted',
];

/** Why a run did not complete. */
export const RunErrorSchema = v.object({ code: v.string(), message: v.string() });
export type RunError = v.InferOutput<typeof RunErrorSchema>;

/** One execution of one user input. */
export const RunRecordSchema = v.object({
  run_id: IdSchema,
  status: RunStatusSchema,
  /** Transcript sequence of the run's user entry; null while queued. */
  input_sequence: v.nullable(CountSchema),
  queued_at: TimestampSchema,
  started_at: v.nullable(TimestampSchema),
  ended_at: v.nullable(TimestampSchema),
  error: v.nullable(RunErrorSchema),
  idempotency_key: v.nullable(v.string()),
  /** How many transcript entries the run's engine appended. */
  output_entries: CountSchema,
});
export type RunRecord = v.InferOutput<typeof RunRecordSchema>;

/** `getRun` options: long-poll until the run is terminal or `wait_ms` passes. */
export const GetRunOptionsSchema = v.strictObject({
  wait_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});
export type GetRunOptions = v.InferInput<typeof GetRunOptionsSchema>;

/** `listRuns` paging. */
export const ListRunsQuerySchema = v.strictObject({
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(1024))),
});
export type ListRunsQuery = v.InferInput<typeof ListRunsQuerySchema>;

/** One page of runs, oldest first. */
export const RunPageSchema = v.object({ runs: v.array(RunRecordSchema), next_cursor: v.nullable(v.string()) });
export type RunPage = v.InferOutput<typeof RunPageSchema>;
