import type { Diagnostic, RuntimeRecord, StoreRecord } from '@worker-runtime/core';
import type { FileWriter } from './file-writer.js';
import type { JournalBatch } from './journal.js';
import type { RuntimeLayout } from './layout.js';
import { WORKER_FILES } from './layout.js';
import { INDEX_WIDTH, indexEntry } from './offset-index.js';
import { type LogSize, WorkerUnit } from './worker-unit.js';

/**
 * The store's whole in-memory state (O(workers)) and the one function that applies a committed
 * batch to it and to the materialized files. Recovery replays the journal through the same path.
 */
export class StoreState {
  runtime: RuntimeRecord;
  runtimeDirty = false;
  /** The batch `checkpoint.json` reflects: runtime-level records up to it are already in the files. */
  checkpointBatch: number;
  /** The highest batch applied. */
  lastBatch: number;
  events: LogSize;
  readable_events: LogSize;
  diagnostics: Diagnostic[];
  maxDiagnostics: number;
  readonly workers = new Map<string, WorkerUnit>();
  readonly dirtyWorkers = new Set<WorkerUnit>();
  readonly #touched = new Set<WorkerUnit>();
  #nextOrdinal = 0;
  readonly #layout: RuntimeLayout;
  readonly #writer: FileWriter;

  constructor(
    layout: RuntimeLayout,
    writer: FileWriter,
    init: { runtime: RuntimeRecord; batch: number; events: LogSize; diagnostics: Diagnostic[]; maxDiagnostics: number },
  ) {
    this.#layout = layout;
    this.#writer = writer;
    this.runtime = init.runtime;
    this.checkpointBatch = init.batch;
    this.lastBatch = init.batch;
    this.events = { ...init.events };
    this.readable_events = { ...init.events };
    this.maxDiagnostics = init.maxDiagnostics;
    this.diagnostics = init.diagnostics.slice(-init.maxDiagnostics);
  }

  /** Adds a worker loaded from its `worker.json`. */
  addLoaded(unit: WorkerUnit): void {
    this.workers.set(unit.worker_id, unit);
    this.#nextOrdinal = Math.max(this.#nextOrdinal, unit.ordinal + 1);
  }

  /**
   * Applies one batch: memory first, file appends queued on the writer. Records a unit already
   * reflects (its batch is not older) are skipped, which makes journal replay idempotent.
   */
  apply({ batch, records }: JournalBatch): void {
    const runtimeLevel = batch > this.checkpointBatch;
    for (const record of records) this.#applyRecord(record, batch, runtimeLevel);
    for (const unit of this.#touched) unit.batch = Math.max(unit.batch, batch);
    this.lastBatch = Math.max(this.lastBatch, batch);
  }

  /** After the writer flushed: planned sizes become readable. */
  publish(): void {
    this.readable_events = { ...this.events };
    for (const unit of this.#touched) unit.publish();
    this.#touched.clear();
  }

  #unit(worker_id: string, batch: number): WorkerUnit | null {
    const unit = this.workers.get(worker_id);
    if (!unit || batch <= unit.batch) return null;
    this.#touched.add(unit);
    this.dirtyWorkers.add(unit);
    return unit;
  }

  #applyRecord(record: StoreRecord, batch: number, runtimeLevel: boolean): void {
    switch (record.type) {
      case 'runtime':
        if (!runtimeLevel) return;
        this.runtime = record.runtime;
        this.runtimeDirty = true;
        return;
      case 'worker': {
        if (!this.workers.has(record.worker.worker_id)) {
          const unit = WorkerUnit.create(record.worker, this.#nextOrdinal++, batch - 1);
          this.workers.set(unit.worker_id, unit);
          this.#writer.ensureDir(this.#layout.workerDir(unit.worker_id), this.#layout.workersDir);
        }
        const unit = this.#unit(record.worker.worker_id, batch);
        if (unit) unit.record = record.worker;
        return;
      }
      case 'run': {
        const unit = this.#unit(record.run.worker_id, batch);
        if (!unit) return;
        unit.applyRun(record.run);
        unit.runs_bytes += this.#line(
          this.#layout.workerFile(unit.worker_id, WORKER_FILES.runs),
          unit.runs_bytes,
          record.run,
        );
        return;
      }
      case 'idempotency': {
        const unit = this.#unit(record.record.worker_id, batch);
        if (!unit) return;
        unit.idempotency?.set(record.record.key, record.record);
        const path = this.#layout.workerFile(unit.worker_id, WORKER_FILES.idempotency);
        unit.idempotency_bytes += this.#line(path, unit.idempotency_bytes, record.record);
        return;
      }
      case 'transcript': {
        const unit = this.#unit(record.entry.worker_ref.worker_id, batch);
        if (!unit) return;
        this.#appendIndexed(
          this.#layout.workerFile(unit.worker_id, WORKER_FILES.transcript),
          this.#layout.workerFile(unit.worker_id, WORKER_FILES.transcriptIndex),
          unit.transcript,
          record.entry.sequence,
          record.entry,
        );
        return;
      }
      case 'event': {
        const { event } = record;
        if (runtimeLevel) {
          this.#appendIndexed(
            this.#layout.file('events.jsonl'),
            this.#layout.file('events.idx'),
            this.events,
            event.id,
            event,
          );
        }
        const unit = event.worker_ref ? this.#unit(event.worker_ref.worker_id, batch) : null;
        if (!unit) return;
        const path = this.#layout.workerFile(unit.worker_id, WORKER_FILES.eventIds);
        this.#writer.append(path, unit.event_ids * INDEX_WIDTH, indexEntry(event.id));
        unit.event_ids++;
        unit.last_event_id = event.id;
        unit.updated_at = event.created_at;
        return;
      }
      case 'diagnostic':
        if (!runtimeLevel) return;
        this.diagnostics.push(record.diagnostic);
        if (this.diagnostics.length > this.maxDiagnostics) this.diagnostics.shift();
        return;
    }
  }

  /** Queues one JSON line; returns its length in bytes. */
  #line(path: string, position: number, value: unknown): number {
    const text = `${JSON.stringify(value)}\n`;
    this.#writer.append(path, position, text);
    return Buffer.byteLength(text, 'utf8');
  }

  /**
   * Appends entry number `key` (1-based, dense) to an indexed log. A gap (a key past the next one,
   * after a skipped corrupt batch) is filled with empty entries so positions keep matching keys;
   * a key already present is ignored, so ids are never reused.
   */
  #appendIndexed(data: string, index: string, size: LogSize, key: number, value: unknown): void {
    if (key <= size.count) return;
    while (size.count < key - 1) {
      this.#writer.append(index, size.count * INDEX_WIDTH, indexEntry(size.bytes));
      size.count++;
    }
    size.bytes += this.#line(data, size.bytes, value);
    this.#writer.append(index, size.count * INDEX_WIDTH, indexEntry(size.bytes));
    size.count++;
  }
}
