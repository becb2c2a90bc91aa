import {
  DiagnosticSchema,
  RunRecordSchema,
  RuntimeRecordSchema,
  StoredRunSchema,
  StoreRecordSchema,
  WorkerRecordSchema,
} from '@worker-runtime/core';
import * as v from 'valibot';

// Every file the store reads back is checked against these schemas with `v.safeParse`.

const count = v.pipe(v.number(), v.integer(), v.minValue(0));

/** The on-disk format version; a store refuses files from a newer format. */
export const FORMAT = 1;

/** `runtime.json`. */
export const RuntimeFileSchema = v.object({ format: v.literal(FORMAT), ...RuntimeRecordSchema.entries });

/** One line of `journal.jsonl`: a whole committed batch. */
export const JournalLineSchema = v.object({ batch: v.pipe(count, v.minValue(1)), records: v.array(StoreRecordSchema) });

/** Length of a JSONL file and its fixed-width offset index, as of a checkpoint. */
const LogSizeSchema = v.object({ count, bytes: count });

/** `checkpoint.json`: runtime-level state as of batch `batch`. */
export const CheckpointFileSchema = v.object({
  format: v.literal(FORMAT),
  batch: count,
  events: LogSizeSchema,
  /** How many of the oldest events were trimmed (the event files' base; absent before trimming existed). */
  events_base: v.optional(count),
  diagnostics: v.array(DiagnosticSchema),
  /** Tombstones: ids of deleted workers (absent in files written before deletion existed). */
  deleted_workers: v.optional(v.array(v.string())),
  /** Idempotency records made before this time were expired (`expireIdempotency`); absent before any was. */
  idempotency_before: v.optional(v.string()),
});

const OrderedRunSchema = v.object({ ordinal: count, stored: StoredRunSchema });

/** `worker.json`: one worker's record and O(1) derived state as of batch `batch`. */
export const WorkerFileSchema = v.object({
  format: v.literal(FORMAT),
  batch: count,
  ordinal: count,
  worker: WorkerRecordSchema,
  transcript: LogSizeSchema,
  event_ids: count,
  runs_bytes: count,
  idempotency_bytes: count,
  /** Absent in files written before `history.jsonl` existed. */
  history_bytes: v.optional(count),
  last_event_id: count,
  updated_at: v.string(),
  last_run: v.nullable(v.object({ ordinal: count, run: RunRecordSchema })),
  next_run_ordinal: count,
  unfinished_runs: v.array(OrderedRunSchema),
  /** Present (true) once the idempotency log lost records; see docs/fs-store.md. */
  idempotency_damaged: v.optional(v.boolean()),
  /**
   * When the idempotency log is worth rewriting (`idempotency-expiry.ts`): once the expiry cutoff
   * passes this `created_at`; null when no record has one; absent (unknown) in older files.
   */
  idempotency_due: v.optional(v.nullable(v.string())),
  /** Written just before `idempotency.jsonl.new` replaces the log: open finishes that rename. */
  idempotency_swap: v.optional(v.literal(true)),
});
export type WorkerFile = v.InferOutput<typeof WorkerFileSchema>;

/** `LOCK`: who owns the runtime directory. */
export const LockFileSchema = v.object({ pid: v.pipe(count, v.minValue(1)), acquired_at: v.string() });
