import type { RuntimeEvent } from './schemas/event.js';
import { type RunRecord, TERMINAL_RUN_STATUSES } from './schemas/run.js';
import type { StoredRun, StoredWorker, WorkerRecord } from './store.js';

// What every store reports about a worker when it opens ("last run", "unfinished runs", "last
// event id") is derived here, once, from the records it commits: stores keep a tally per worker and
// feed it each run and event record.

/** A queued or running run and its place in the worker's queue order (the order runs first appear). */
export interface UnfinishedRun {
  ordinal: number;
  stored: StoredRun;
}

/** The per-worker tally of run records. Stores may persist it as is (it is plain data). */
export interface RunTally {
  /** The terminal run latest in queue order, with its ordinal. */
  last_run: { ordinal: number; run: RunRecord } | null;
  /** The ordinal the next new run id gets. */
  next_run_ordinal: number;
  /** Runs that are queued or running, in queue order; null while there are none (idle workers hold no map). */
  unfinished: Map<string, UnfinishedRun> | null;
}

/** The per-worker tally of event records. */
export interface EventTally {
  /** The id of the newest event naming the worker (0 when none). */
  last_event_id: number;
  /** `created_at` of that event (the worker's `created_at` when none). */
  updated_at: string;
}

/** A fresh tally for a worker that has no runs and no events yet. */
export function newTally(record: WorkerRecord): RunTally & EventTally {
  return { last_run: null, next_run_ordinal: 0, unfinished: null, last_event_id: 0, updated_at: record.created_at };
}

/** Applies one `run` record (latest state wins) to a worker's tally. */
export function tallyRun(tally: RunTally, stored: StoredRun): void {
  const run_id = stored.run.run_id;
  const known = tally.unfinished?.get(run_id);
  const ordinal =
    known?.ordinal ?? (tally.last_run?.run.run_id === run_id ? tally.last_run.ordinal : tally.next_run_ordinal++);
  if (TERMINAL_RUN_STATUSES.includes(stored.run.status)) {
    if (known && tally.unfinished) {
      tally.unfinished.delete(run_id);
      if (tally.unfinished.size === 0) tally.unfinished = null;
    }
    if (tally.last_run === null || ordinal >= tally.last_run.ordinal) tally.last_run = { ordinal, run: stored.run };
  } else {
    tally.unfinished ??= new Map();
    tally.unfinished.set(run_id, { ordinal, stored });
  }
}

/** Applies one event naming the worker to its tally. */
export function tallyEvent(tally: EventTally, event: Pick<RuntimeEvent, 'id' | 'created_at'>): void {
  tally.last_event_id = event.id;
  tally.updated_at = event.created_at;
}

/** What a store reports about a worker when it opens (a deep copy: the tally goes on changing). */
export function storedWorker(worker: WorkerRecord, transcript_len: number, tally: RunTally & EventTally): StoredWorker {
  return structuredClone({
    worker,
    transcript_len,
    last_event_id: tally.last_event_id,
    updated_at: tally.updated_at,
    last_run: tally.last_run?.run ?? null,
    unfinished_runs: [...(tally.unfinished?.values() ?? [])].map((entry) => entry.stored),
  });
}
