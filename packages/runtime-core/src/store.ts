import type * as v from 'valibot';
import type { RuntimeEvent } from './schemas/event.js';
import type { RunRecord } from './schemas/run.js';
import type { Diagnostic } from './schemas/runtime.js';
import type {
  IdempotencyRecordSchema,
  PendingInputSchema,
  RuntimeRecordSchema,
  StoredRunSchema,
  StoreRecordSchema,
  WorkerRecordSchema,
} from './schemas/store.js';
import type { TranscriptEntry } from './schemas/transcript.js';

/** The runtime's own persisted identity. */
export type RuntimeRecord = v.InferOutput<typeof RuntimeRecordSchema>;
/** A Worker as persisted (see {@link WorkerRecordSchema}). */
export type WorkerRecord = v.InferOutput<typeof WorkerRecordSchema>;
/** The part of a user input a queued run still needs to start. */
export type PendingInput = v.InferOutput<typeof PendingInputSchema>;
/** The latest state of one run (see {@link StoredRunSchema}). */
export type StoredRun = v.InferOutput<typeof StoredRunSchema>;
/** A durable idempotency record. */
export type IdempotencyRecord = v.InferOutput<typeof IdempotencyRecordSchema>;
/** One durable effect of a committed batch (see {@link StoreRecordSchema}). */
export type StoreRecord = v.InferOutput<typeof StoreRecordSchema>;

/** What a store knows about one Worker when it opens: O(1) per worker. */
export interface StoredWorker {
  worker: WorkerRecord;
  /** Number of transcript entries (the highest sequence; sequences are dense). */
  transcript_len: number;
  /** The id of the newest event naming this worker (0 when none). */
  last_event_id: number;
  /** `created_at` of that event (the worker's `created_at` when none). */
  updated_at: string;
  /** The newest terminal run, if any. */
  last_run: RunRecord | null;
  /** Runs that are `queued` or `running`, in the order they were queued. */
  unfinished_runs: StoredRun[];
}

/** Everything a Runtime needs to resume; its size grows with the number of workers only. */
export interface StoreSnapshot {
  runtime: RuntimeRecord;
  /** Workers in creation order. */
  workers: StoredWorker[];
  /** The highest event id ever committed (0 when none); new ids continue after it. */
  last_event_id: number;
  /**
   * Tombstones: ids of deleted workers (committed `worker_deleted` records), which stay reserved.
   * A store keeps O(1) small data per deleted worker (its id), nothing else of it.
   */
  deleted_workers: string[];
  /** The newest persisted diagnostics, oldest first. */
  diagnostics: Diagnostic[];
  /**
   * Diagnostics the store raised while opening (torn tail repaired, stray file, stale lock taken
   * over). The Runtime records them, which persists them and emits `diagnostic_recorded` events.
   */
  recovery_diagnostics: Diagnostic[];
}

/** How a Runtime asks a store to open. */
export interface StoreOpenRequest {
  /** Open (or create) this runtime; when absent the store picks or creates one. */
  runtime_id?: string;
  /** Used only when the runtime is created. */
  display_name?: string;
  /** Generates a fresh runtime id when one must be created. */
  generate_id: () => string;
  /** The clock's current time, ISO-8601. */
  now: string;
  /**
   * Hands the Runtime a diagnostic the store raises after opening (e.g. a corrupt record found while
   * reading a page); the Runtime records it like a recovery diagnostic.
   */
  report_diagnostic?: (diagnostic: Diagnostic) => void;
  /** How many diagnostics the snapshot should carry at most. */
  max_diagnostics: number;
  /** Stores that trim events keep at least this many (the memory store's retention). */
  max_retained_events: number;
  /**
   * `retention.max_retained_events`: when set, persistent stores (which otherwise keep every event)
   * also keep only about the newest this many; older cursors get `cursor_expired`.
   */
  retained_events?: number;
}

/**
 * Where a Runtime keeps its state. Core holds no more than O(workers) in memory and reads
 * transcripts, runs and events back through this interface.
 *
 * Contract:
 * - `commit` resolves only once every record of the batch is durable, and batches become visible
 *   (to the read methods) and resolve in the order `commit` was called.
 * - After a `commit` fails, the store fails every later commit with `store_unavailable` until it is
 *   reopened; reads go on working and return only what was committed.
 * - Reads may see a batch that is written but whose `commit` has not resolved yet; the Runtime
 *   bounds what it reads by what it has seen committed (event ids, transcript lengths).
 * - Store errors are `RuntimeError`s (`store_unavailable`, `store_locked`, `cursor_expired`).
 * - Deletion is a record in the batch, `{type: 'worker_deleted', worker_id}`, committed with the
 *   `worker_deleted` event. That batch is the commit point: when it resolves the worker's
 *   transcript, runs, idempotency records and worker record are gone from the store (reads answer
 *   empty/null, the next snapshot lists the id in `deleted_workers` and not in `workers`). A crash
 *   before the batch is durable leaves the worker intact; after it, `open` finishes the removal
 *   before it answers. So a delete is never seen half done, and no other record needs ordering
 *   against it. Events that named the worker stay (they are the runtime's history) until trimmed.
 */
export interface RuntimeStore {
  /** A short name for summaries: `memory`, `fs`. */
  readonly kind: string;
  /** Opens (recovering if needed) and returns what the Runtime needs to resume. */
  open(request: StoreOpenRequest): Promise<StoreSnapshot>;
  /** Makes a batch durable; see the ordering rules above. */
  commit(records: readonly StoreRecord[]): Promise<void>;
  /** Transcript entries with 0-based index `start` .. `start + limit - 1` (sequences `start + 1` …). */
  readTranscript(worker_id: string, start: number, limit: number): Promise<TranscriptEntry[]>;
  /**
   * Up to `limit` events with `id > after` (only those naming `worker_id` when given), oldest first.
   * @throws RuntimeError `cursor_expired` when events after `after` were already trimmed
   */
  readEvents(query: { after: number; limit: number; worker_id?: string }): Promise<RuntimeEvent[]>;
  /** The latest state of one run, or null. */
  getRun(worker_id: string, run_id: string): Promise<RunRecord | null>;
  /** Up to `limit` runs of a worker in the order they were queued, after `after_run_id` when given. */
  listRuns(worker_id: string, query: { after_run_id?: string; limit: number }): Promise<RunRecord[]>;
  /** The idempotency record for a worker's key, or null. */
  getIdempotency(worker_id: string, key: string): Promise<IdempotencyRecord | null>;
  /**
   * Drops idempotency records whose `created_at` is before `before` (ISO-8601), so their memory and
   * disk are reclaimed (`retention.idempotency_ttl_ms`). Optional: the Runtime ignores expired
   * records by age anyway; a store without it keeps them until their worker is deleted.
   */
  expireIdempotency?(before: string): Promise<void>;
  /** Flushes and releases the store (locks, file handles). Idempotent. */
  close(): Promise<void>;
}
