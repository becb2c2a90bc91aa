import { type Diagnostic, type RuntimeRecord, type StoreRecord, tallyEvent } from '@worker-runtime/core';
import { eventFiles } from './event-log.js';
import type { DirtyMask, FileWriter } from './file-writer.js';
import type { JournalBatch } from './journal.js';
import type { RuntimeLayout, WorkerFileName } from './layout.js';
import { INDEX_WIDTH } from './offset-index.js';
import { valueJson } from './record-json.js';
import { LOG_BITS, LOG_FILES, SNAPSHOT_DUE, WorkerUnit } from './worker-unit.js';

/** Length of an indexed JSONL file: entries and bytes. */
export interface LogSize {
  count: number;
  bytes: number;
}

/** `StoreState.dirty` bits (besides `DIR_CHANGED`, the runtime directory): written since the checkpoint. */
export const RUNTIME_BITS = { events: 2, eventsIndex: 4, workersDir: 8 } as const;

const NO_BYTES = Buffer.alloc(0);

const TRANSCRIPT_BITS = { data: LOG_BITS.transcript, index: LOG_BITS.transcriptIndex };
const EVENT_BITS = { data: RUNTIME_BITS.events, index: RUNTIME_BITS.eventsIndex };

/**
 * The store's whole in-memory state (O(workers)) and the one function that applies a committed
 * batch to it and to the materialized files. Recovery replays the journal through the same path.
 */
export class StoreState implements DirtyMask {
  runtime: RuntimeRecord;
  runtimeDirty = false;
  /** The batch `checkpoint.json` reflects: runtime-level records up to it are already in the files. */
  checkpointBatch: number;
  /** The highest batch applied. */
  lastBatch: number;
  /** Ids (count = last id) of the event log; its files hold events `events_base + 1 ..` (event-log.ts). */
  events: LogSize;
  readable_events: LogSize;
  /** The highest event id reserved in `reserved-ids.json` (id-reservation.ts). */
  reserved_events = 0;
  /** How many of the oldest events were trimmed from the event log (retention). */
  events_base: number;
  diagnostics: Diagnostic[];
  maxDiagnostics: number;
  readonly workers = new Map<string, WorkerUnit>();
  /** Tombstones: ids of deleted workers (persisted in `checkpoint.json`, replayed from the journal). */
  readonly deleted: Set<string>;
  /** Idempotency records made before this were expired: lookups skip them (persisted in `checkpoint.json`). */
  idempotency_before: string | null;
  /** An expiry sweep found a worker due: the next group is exclusive and rewrites (`idempotency-expiry.ts`). */
  expiry_requested = false;
  /** Workers deleted by applied batches whose directory is still to be removed (see `worker-removal.ts`). */
  removals: string[] = [];
  /** Runtime-level files and directories written since the checkpoint (`RUNTIME_BITS`, `DIR_CHANGED`). */
  dirty = 0;
  /** Units the batch being applied touched. */
  readonly #touched = new Set<WorkerUnit>();
  /** Units with appends applied since the last {@link capture}. */
  #unpublished = new Set<WorkerUnit>();
  #nextOrdinal = 0;
  /**
   * The log line of the record being applied, without its newline: `source[start, end)`, the bytes
   * of the journal's append or of the record's value encoded on its own. One object reused.
   */
  readonly #line: { source: Buffer; start: number; end: number } = { source: NO_BYTES, start: 0, end: 0 };
  readonly #layout: RuntimeLayout;
  readonly #writer: FileWriter;
  /** The file an append of `owner` (this state or a worker unit) with `bit` goes to (see `FileWriter.appendLine`). */
  readonly #locate = (owner: DirtyMask, bit: number): string => {
    if (owner === this) {
      const files = eventFiles(this.#layout, this.events_base);
      return bit === RUNTIME_BITS.events ? files.data : files.index;
    }
    return this.#layout.workerFile((owner as WorkerUnit).worker_id, LOG_FILES.get(bit) as WorkerFileName);
  };

  constructor(
    layout: RuntimeLayout,
    writer: FileWriter,
    init: {
      runtime: RuntimeRecord;
      batch: number;
      events: LogSize;
      events_base: number;
      diagnostics: Diagnostic[];
      maxDiagnostics: number;
      deleted: Iterable<string>;
      idempotency_before: string | null;
    },
  ) {
    this.deleted = new Set(init.deleted);
    this.idempotency_before = init.idempotency_before;
    this.#layout = layout;
    this.#writer = writer;
    this.runtime = init.runtime;
    this.checkpointBatch = init.batch;
    this.lastBatch = init.batch;
    this.events = { ...init.events };
    this.readable_events = { ...init.events };
    this.events_base = init.events_base;
    this.maxDiagnostics = init.maxDiagnostics;
    this.diagnostics = init.diagnostics.slice(-init.maxDiagnostics);
  }

  /** The ordinal the next worker added gets. */
  get nextOrdinal(): number {
    return this.#nextOrdinal;
  }

  /** Adds a worker loaded from its `worker.json` (or rebuilt from its logs). */
  addLoaded(unit: WorkerUnit): void {
    this.workers.set(unit.worker_id, unit);
    this.#nextOrdinal = Math.max(this.#nextOrdinal, unit.ordinal + 1);
  }

  /**
   * Applies one batch: memory first, file appends queued on the writer. Records a unit already
   * reflects (its batch is not older) are skipped, which makes journal replay idempotent.
   */
  apply({ batch, records, values, encoded }: JournalBatch): void {
    const runtimeLevel = batch > this.checkpointBatch;
    const line = this.#line;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as StoreRecord;
      if (encoded && values) {
        line.source = encoded.bytes;
        line.start = encoded.base + (encoded.offsets[i] as number);
        line.end = line.start + (values[i] as string).length;
      } else {
        line.source = Buffer.from(values?.[i] ?? valueJson(record), 'utf8');
        line.start = 0;
        line.end = line.source.length;
      }
      this.#applyRecord(record, batch, runtimeLevel);
    }
    line.source = NO_BYTES;
    for (const unit of this.#touched) {
      unit.batch = Math.max(unit.batch, batch);
      this.#unpublished.add(unit);
    }
    this.#touched.clear();
    this.lastBatch = Math.max(this.lastBatch, batch);
  }

  /**
   * Called when a flush takes the writer's queue: returns what makes the planned sizes of that
   * moment readable, to be called once the flush has written them (later applies stay unreadable).
   */
  capture(): () => void {
    const events = { ...this.events };
    const units = [...this.#unpublished].map((unit) => ({ unit, sizes: unit.planned() }));
    this.#unpublished = new Set();
    return () => {
      this.readable_events = events;
      for (const { unit, sizes } of units) unit.publish(sizes);
    };
  }

  #unit(worker_id: string, batch: number): WorkerUnit | null {
    const unit = this.workers.get(worker_id);
    if (!unit || batch <= unit.batch) return null;
    this.#touched.add(unit);
    unit.dirty |= SNAPSHOT_DUE;
    return unit;
  }

  /** Queues the line of the record being applied at `position` of a log file. */
  #queueLine(owner: DirtyMask, bit: number, position: number): void {
    const { source, start, end } = this.#line;
    this.#writer.appendLine(owner, bit, position, source, start, end, this.#locate);
  }

  #applyRecord(record: StoreRecord, batch: number, runtimeLevel: boolean): void {
    // The line's bytes with its newline.
    const bytes = this.#line.end - this.#line.start + 1;
    switch (record.type) {
      case 'runtime':
        if (!runtimeLevel) return;
        this.runtime = record.runtime;
        this.runtimeDirty = true;
        return;
      case 'worker': {
        // A deleted worker's older records (replayed from the journal) are dropped with it.
        if (this.deleted.has(record.worker.worker_id)) return;
        if (!this.workers.has(record.worker.worker_id)) {
          const unit = WorkerUnit.create(record.worker, this.#nextOrdinal++, batch - 1);
          this.workers.set(unit.worker_id, unit);
          this.#writer.ensureDir(this.#layout.workerDir(unit.worker_id), this, RUNTIME_BITS.workersDir);
        }
        const unit = this.#unit(record.worker.worker_id, batch);
        if (!unit) return;
        unit.record = record.worker;
        this.#queueLine(unit, LOG_BITS.history, unit.history_bytes);
        unit.history_bytes += bytes;
        return;
      }
      case 'run': {
        const unit = this.#unit(record.run.worker_id, batch);
        if (!unit) return;
        unit.applyRun(record.run);
        this.#queueLine(unit, LOG_BITS.runs, unit.runs_bytes);
        unit.runs_bytes += bytes;
        return;
      }
      case 'idempotency': {
        const unit = this.#unit(record.record.worker_id, batch);
        if (!unit) return;
        unit.idempotency?.add(record.record.key, unit.idempotency_bytes);
        // The oldest time since the log was last rewritten ('' stays: unknown until a sweep scans it).
        const made = record.record.created_at;
        if (made !== undefined && (unit.idempotency_due === null || made < unit.idempotency_due)) {
          unit.idempotency_due = made;
        }
        this.#queueLine(unit, LOG_BITS.idempotency, unit.idempotency_bytes);
        unit.idempotency_bytes += bytes;
        return;
      }
      case 'transcript': {
        const unit = this.#unit(record.entry.worker_ref.worker_id, batch);
        if (!unit) return;
        const key = record.entry.sequence;
        unit.transcript_bytes += this.#appendIndexed(
          unit,
          TRANSCRIPT_BITS,
          unit.transcript_count,
          unit.transcript_bytes,
          key,
        );
        unit.transcript_count = Math.max(unit.transcript_count, key);
        return;
      }
      case 'event': {
        const { event } = record;
        if (runtimeLevel) {
          // Slots are ids minus the trimmed base; an id at or before it is already in (or past) the log.
          const base = this.events_base;
          this.events.bytes += this.#appendIndexed(
            this,
            EVENT_BITS,
            this.events.count - base,
            this.events.bytes,
            event.id - base,
          );
          this.events.count = Math.max(this.events.count, event.id);
        }
        const unit = event.worker_ref ? this.#unit(event.worker_ref.worker_id, batch) : null;
        // An id the worker already lists was applied before (a rebuilt worker replays every batch).
        if (!unit || event.id <= unit.last_event_id) return;
        this.#writer.appendIndexEntry(unit, LOG_BITS.eventIds, unit.event_ids * INDEX_WIDTH, event.id, this.#locate);
        unit.event_ids++;
        tallyEvent(unit, event);
        return;
      }
      case 'worker_deleted': {
        const unit = this.workers.get(record.worker_id);
        if (unit) {
          this.workers.delete(record.worker_id);
          this.#touched.delete(unit);
          this.#unpublished.delete(unit);
        }
        if (!this.deleted.has(record.worker_id) || unit) this.removals.push(record.worker_id);
        this.deleted.add(record.worker_id);
        return;
      }
      case 'diagnostic':
        if (!runtimeLevel) return;
        this.diagnostics.push(record.diagnostic);
        if (this.diagnostics.length > this.maxDiagnostics) this.diagnostics.shift();
        return;
    }
  }

  /**
   * Appends the record's line as entry number `key` (1-based, dense) of an indexed log holding `count`
   * entries and `bytes` bytes; returns the bytes added to the data file. A gap (a key past the next
   * one, after a skipped corrupt batch) is filled with empty entries so positions keep matching
   * keys; a key already present is ignored (0 bytes), so ids are never reused. The caller's count
   * becomes `max(count, key)`.
   */
  #appendIndexed(
    owner: DirtyMask,
    bits: { data: number; index: number },
    count: number,
    bytes: number,
    key: number,
  ): number {
    if (key <= count) return 0;
    const added = this.#line.end - this.#line.start + 1;
    this.#queueLine(owner, bits.data, bytes);
    for (let position = count; position < key; position++) {
      const end = position === key - 1 ? bytes + added : bytes;
      this.#writer.appendIndexEntry(owner, bits.index, position * INDEX_WIDTH, end, this.#locate);
    }
    return added;
  }
}
