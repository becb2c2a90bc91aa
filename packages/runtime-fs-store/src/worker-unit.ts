import {
  type RunRecord,
  type StoredRun,
  type StoredWorker,
  storedWorker,
  tallyRun,
  type UnfinishedRun,
  type WorkerRecord,
} from '@worker-runtime/core';
import { FORMAT, type WorkerFile } from './file-schemas.js';
import type { KeyOffsets } from './key-offsets.js';
import { WORKER_FILES, type WorkerFileName } from './layout.js';

/** A worker's runs, loaded on first use from `runs.jsonl`: latest state by id, in queue order. */
export interface RunTable {
  byId: Map<string, RunRecord>;
  order: string[];
}

/** Planned log sizes: transcript count and bytes, event ids, runs bytes, idempotency bytes. */
export type PlannedSizes = [number, number, number, number, number];

/** `WorkerUnit.dirty`: `worker.json` must be rewritten at the next checkpoint. */
export const SNAPSHOT_DUE = 2;

/** `WorkerUnit.dirty` bits of the worker's log files (by `WORKER_FILES` key): written since the checkpoint. */
export const LOG_BITS = {
  transcript: 4,
  transcriptIndex: 8,
  eventIds: 16,
  runs: 32,
  idempotency: 64,
  history: 128,
} as const satisfies Partial<Record<keyof typeof WORKER_FILES, number>>;

/** The worker file each of {@link LOG_BITS} stands for. */
export const LOG_FILES: ReadonlyMap<number, WorkerFileName> = new Map(
  Object.entries(LOG_BITS).map(([key, bit]) => [bit, WORKER_FILES[key as keyof typeof LOG_BITS]]),
);

/**
 * Everything the store keeps in memory for one worker: O(1) in the size of its logs, and kept small
 * because an idle worker costs exactly this (plain numbers, no per-worker path strings, maps made
 * on first use). Sizes come in two flavours: plain ones are what has been planned (appends queued
 * for the current group) and `readable_*` what is on the page cache and safe to read.
 */
export class WorkerUnit {
  readonly worker_id: string;
  readonly ordinal: number;
  record: WorkerRecord;
  /** The last journal batch applied to this worker's files. */
  batch: number;
  /** What changed since the last checkpoint (`SNAPSHOT_DUE`, `DIR_CHANGED`, `LOG_BITS`). */
  dirty = 0;
  transcript_count: number;
  transcript_bytes: number;
  readable_transcript_count: number;
  readable_transcript_bytes: number;
  event_ids: number;
  readable_event_ids: number;
  runs_bytes: number;
  readable_runs_bytes: number;
  idempotency_bytes: number;
  readable_idempotency_bytes: number;
  /** Length of `history.jsonl`, every record the worker had (the copy `worker.json` is rebuilt from). */
  history_bytes: number;
  last_event_id: number;
  updated_at: string;
  last_run: { ordinal: number; run: RunRecord } | null;
  next_run_ordinal: number;
  /** Runs that are queued or running, in the order they were first seen; null while there are none. */
  unfinished: Map<string, UnfinishedRun> | null = null;
  /** Loaded on demand and dropped again by the store's bounded cache; null while not loaded. */
  runs: RunTable | null = null;
  /** Where each idempotency key's record is in `idempotency.jsonl`; same lifetime as `runs`. */
  idempotency: KeyOffsets | null = null;
  /** The idempotency log lost records (torn, unreadable): a key it does not hold may have been used. */
  idempotency_damaged: boolean;
  /**
   * The expiry sweep rewrites the idempotency log once its cutoff passes this `created_at` (so at
   * least half of the log's timed records can go, or its oldest on a log never rewritten); null
   * while no record has a time; `''` when unknown (an older `worker.json`, a repaired log), which
   * the next sweep finds by a scan. See `idempotency-expiry.ts`.
   */
  idempotency_due: string | null;

  constructor(file: WorkerFile) {
    this.worker_id = file.worker.worker_id;
    this.ordinal = file.ordinal;
    this.record = file.worker as WorkerRecord;
    this.batch = file.batch;
    this.transcript_count = file.transcript.count;
    this.transcript_bytes = file.transcript.bytes;
    this.readable_transcript_count = file.transcript.count;
    this.readable_transcript_bytes = file.transcript.bytes;
    this.event_ids = file.event_ids;
    this.readable_event_ids = file.event_ids;
    this.runs_bytes = file.runs_bytes;
    this.readable_runs_bytes = file.runs_bytes;
    this.idempotency_bytes = file.idempotency_bytes;
    this.readable_idempotency_bytes = file.idempotency_bytes;
    this.history_bytes = file.history_bytes ?? 0;
    this.last_event_id = file.last_event_id;
    this.updated_at = file.updated_at;
    this.last_run = file.last_run;
    this.next_run_ordinal = file.next_run_ordinal;
    this.idempotency_damaged = file.idempotency_damaged === true;
    const due = file.idempotency_due;
    this.idempotency_due = due !== undefined ? due : file.idempotency_bytes > 0 ? '' : null;
    for (const entry of file.unfinished_runs) {
      this.unfinished ??= new Map();
      this.unfinished.set(entry.stored.run.run_id, { ordinal: entry.ordinal, stored: entry.stored as StoredRun });
    }
  }

  /** A brand-new worker created by batch `batch`. */
  static create(record: WorkerRecord, ordinal: number, batch: number): WorkerUnit {
    return new WorkerUnit({
      format: FORMAT,
      batch,
      ordinal,
      worker: record,
      transcript: { count: 0, bytes: 0 },
      event_ids: 0,
      runs_bytes: 0,
      idempotency_bytes: 0,
      history_bytes: 0,
      last_event_id: 0,
      updated_at: record.created_at,
      last_run: null,
      next_run_ordinal: 0,
      unfinished_runs: [],
    });
  }

  /** The latest state of a queued or running run, or null. */
  unfinishedRun(run_id: string): StoredRun | null {
    return this.unfinished?.get(run_id)?.stored ?? null;
  }

  /** Records the latest state of a run (latest wins), keeping `last_run` and the unfinished list. */
  applyRun(stored: StoredRun): void {
    const run_id = stored.run.run_id;
    tallyRun(this, stored);
    if (this.runs) {
      if (!this.runs.byId.has(run_id)) this.runs.order.push(run_id);
      this.runs.byId.set(run_id, stored.run);
    }
  }

  /** What `worker.json` holds as of `batch`. */
  toFile(batch: number): WorkerFile {
    return {
      format: FORMAT,
      batch,
      ordinal: this.ordinal,
      worker: this.record,
      transcript: { count: this.transcript_count, bytes: this.transcript_bytes },
      event_ids: this.event_ids,
      runs_bytes: this.runs_bytes,
      idempotency_bytes: this.idempotency_bytes,
      history_bytes: this.history_bytes,
      last_event_id: this.last_event_id,
      updated_at: this.updated_at,
      last_run: this.last_run,
      next_run_ordinal: this.next_run_ordinal,
      unfinished_runs: [...(this.unfinished?.values() ?? [])],
      ...(this.idempotency_damaged ? { idempotency_damaged: true } : {}),
      ...(this.idempotency_due !== '' ? { idempotency_due: this.idempotency_due } : {}),
    };
  }

  /** What the Runtime needs about this worker when it opens. */
  toStored(): StoredWorker {
    return storedWorker(this.record, this.transcript_count, this);
  }

  /** The planned sizes of its logs (what appends queued so far will make them). */
  planned(): PlannedSizes {
    return [this.transcript_count, this.transcript_bytes, this.event_ids, this.runs_bytes, this.idempotency_bytes];
  }

  /** Marks appends up to `sizes` (an earlier {@link planned}) as written and safe to read. */
  publish(sizes: PlannedSizes): void {
    [
      this.readable_transcript_count,
      this.readable_transcript_bytes,
      this.readable_event_ids,
      this.readable_runs_bytes,
      this.readable_idempotency_bytes,
    ] = sizes;
  }
}
