import {
  type Diagnostic,
  type IdempotencyRecord,
  isRuntimeError,
  type RunRecord,
  RuntimeError,
  type RuntimeEvent,
  RuntimeEventSchema,
  type RuntimeStore,
  type StoreOpenRequest,
  type StoreRecord,
  type StoreSnapshot,
  type TranscriptEntry,
  TranscriptEntrySchema,
} from '@worker-runtime/core';
import type * as v from 'valibot';

export type { FsStoreOptions } from './fs-store-options.js';

import { replacedWorkers, writeCheckpoint, writeWorkerSnapshots } from './checkpoint.js';
import { Checkpointer } from './checkpointer.js';
import { exclusiveDue, runExclusiveSteps } from './exclusive-steps.js';
import { storeUnavailable } from './file-io.js';
import { FileWriter } from './file-writer.js';
import { type FsLike, nodeFs } from './fs-like.js';
import type { FsStoreOptions } from './fs-store-options.js';
import { GroupCommit } from './group-commit.js';
import { EventIdReservation } from './id-reservation.js';
import { requestExpiry, unexpired } from './idempotency-expiry.js';
import { IndexedReads } from './indexed-reads.js';
import type { JournalAppend } from './journal.js';
import { RUNTIME_FILES, RuntimeLayout } from './layout.js';
import { parseLines } from './log-reads.js';
import { MATERIALIZE_BYTES, Materializer } from './materializer.js';
import { type OpenState, storeSnapshot, type WrittenGroup } from './open-state.js';
import { createdWorkers, journalBatches, locateValues, type SerializedBatch, serializeBatch } from './record-json.js';
import { RecordTables } from './record-tables.js';
import { recoverRuntime } from './recovery.js';
import { pickRuntimeId } from './runtime-dirs.js';
import { acquireLock, releaseLock } from './runtime-lock.js';
import { idempotencyDamaged, openDiagnostics, storeDiagnostic } from './store-diagnostics.js';
import { removeWorkerDirs } from './worker-removal.js';

/**
 * A {@link RuntimeStore} on the local file system (SPEC §9). Each commit is appended to a
 * write-ahead journal and fsynced before it resolves; concurrent commits share one fsync (group
 * commit). Per-worker JSONL logs with fixed-width offset indexes serve reads in O(limit), and
 * periodic checkpoints keep reopening O(workers). One process owns a runtime directory at a time.
 * See docs/fs-store.md.
 */
export class FsStore implements RuntimeStore {
  readonly kind = 'fs';
  readonly #dataDir: string;
  readonly #fs: FsLike;
  readonly #checkpointBytes: number;
  readonly #maxOpenFiles: number;
  readonly #onDiagnostic: (diagnostic: Diagnostic) => void;
  #reportDiagnostic: ((diagnostic: Diagnostic) => void) | undefined;
  #open: OpenState | null = null;
  #opening = false;
  #failure: RuntimeError | null = null;
  #closing: Promise<void> | null = null;

  /** Use {@link createFsStore}, which fills in the defaults. */
  constructor(options: Required<FsStoreOptions>) {
    this.#dataDir = options.data_dir;
    this.#fs = options.fs;
    this.#checkpointBytes = options.checkpoint_bytes;
    this.#maxOpenFiles = options.max_open_files;
    this.#onDiagnostic = options.on_diagnostic;
  }

  /**
   * Opens the runtime (the only one in the data dir, or a new one, when no id is given), takes its
   * lock and recovers: torn journal tail cut, journal replayed, strays reported.
   * @throws RuntimeError `store_locked`, `invalid_request` (several runtimes), `invalid_id`, `store_unavailable`
   */
  async open(request: StoreOpenRequest): Promise<StoreSnapshot> {
    if (this.#open || this.#opening) throw new RuntimeError('store_locked', 'this store instance is already open');
    this.#opening = true;
    this.#reportDiagnostic = request.report_diagnostic;
    try {
      return await this.#openRuntime(request);
    } catch (error) {
      if (isRuntimeError(error)) throw error;
      throw storeUnavailable(error, 'open the runtime directory');
    } finally {
      this.#opening = false;
    }
  }

  async #openRuntime(request: StoreOpenRequest): Promise<StoreSnapshot> {
    const picked =
      request.runtime_id === undefined
        ? await pickRuntimeId(this.#dataDir, this.#fs, request.generate_id)
        : { runtime_id: request.runtime_id, strays: [] };
    const { runtime_id } = picked;
    const layout = new RuntimeLayout(this.#dataDir, runtime_id);
    await this.#fs.mkdirp(layout.dir);
    const lock = await acquireLock(this.#fs, layout.file(RUNTIME_FILES.lock), layout.file(RUNTIME_FILES.lockTakeover));
    const writer = new FileWriter(this.#fs, this.#maxOpenFiles);
    try {
      const recovered = await recoverRuntime(this.#fs, layout, writer, runtime_id, request);
      const { first, last } = openDiagnostics(lock.took_over_pid, picked.strays, request.now);
      recovered.diagnostics.unshift(...first);
      recovered.diagnostics.push(...last);
      const { state, journal } = recovered;
      const reads = new IndexedReads(this.#fs, layout, state, (diagnostic) => this.#report(diagnostic));
      const open: OpenState = {
        layout,
        state,
        journal,
        writer,
        group: new GroupCommit({
          write: (group) => this.#write(group),
          publish: (group, written) => this.#publish(group, written),
          overlaps: (written) => !written.exclusive,
          splits: true,
        }),
        creating: new Set(),
        ids: new EventIdReservation(this.#fs, layout, state),
        retained: request.retained_events,
        nextBatch: state.lastBatch + 1,
        journalEnd: journal.size,
        materializer: new Materializer(writer, state),
        checkpoints: new Checkpointer(
          (end) => writeCheckpoint(this.#fs, open, end),
          (error) => this.#fail(error, 'write a checkpoint'),
        ),
        reads,
        tables: new RecordTables(this.#fs, {
          layout,
          published: () => this.#materialize(),
          worker_events: (unit, after, limit) => reads.workerEvents(unit, after, limit),
          read: (body) => this.#read(body),
          corrupt: (what) => this.#corrupt(what),
          damaged: (worker_id) => this.#report(idempotencyDamaged(worker_id)),
          expired_before: () => state.idempotency_before,
        }),
      };
      if (recovered.replayed) await writeCheckpoint(this.#fs, open, open.journalEnd);
      this.#open = open;
      this.#failure = null;
      this.#closing = null;
      return storeSnapshot(state, recovered.diagnostics);
    } catch (error) {
      await writer.close();
      await releaseLock(this.#fs, layout.file(RUNTIME_FILES.lock)).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Appends the batch to the journal and resolves once it is fsynced and applied (reads see it; its
   * log lines are written behind the acknowledgement, see {@link Materializer}). Batches resolve
   * in call order; one failure makes every later commit fail until the store is reopened.
   * @throws RuntimeError `store_unavailable`; `invalid_request`, `invalid_id`, `worker_not_found` for a malformed batch
   */
  commit(records: readonly StoreRecord[]): Promise<void> {
    const open = this.#open;
    if (!open || this.#closing) return Promise.reject(new RuntimeError('store_unavailable', 'the store is closed'));
    if (this.#failure) return Promise.reject(this.#failure);
    let batch: SerializedBatch;
    let created: string[];
    try {
      // Records are kept by reference, as the memory store does: the Runtime never mutates a
      // committed record, it replaces it. Serializing now fixes what the journal will hold.
      batch = serializeBatch(records, open.state.workers);
      created = createdWorkers(records, open.state.workers, open.creating);
    } catch (error) {
      return Promise.reject(error);
    }
    for (const id of created) open.creating.add(id);
    return open.group.enqueue(batch);
  }

  /**
   * The first stage of a group: numbers its batches and appends them to the journal with one write,
   * whose fdatasync (the commit point) runs on while the next group is written, unless this one is exclusive.
   */
  async #write(group: readonly SerializedBatch[]): Promise<WrittenGroup> {
    const open = this.#open;
    if (!open) throw new RuntimeError('store_unavailable', 'the store is closed');
    if (this.#failure) throw this.#failure;
    const { batches, newest, deletes } = journalBatches(group, open.nextBatch);
    open.nextBatch += batches.length;
    let appended: JournalAppend;
    try {
      await open.ids.reserve(newest);
      appended = await open.journal.append(batches);
    } catch (error) {
      throw this.#fail(error, 'write its journal');
    }
    const exclusive = deletes || exclusiveDue(newest, open);
    locateValues(batches, group, appended);
    const { journal_end, durable } = appended;
    return { batches, journal_end, durable, exclusive, checkpoint: open.journal.size >= this.#checkpointBytes };
  }

  /**
   * The second stage, one group at a time in order: once its fdatasync returned, apply (the group
   * is then acknowledged), remove deleted workers' directories, snapshot, checkpoint. Log files are
   * written by the materializer, here only once enough is queued or before a removal or checkpoint.
   */
  async #publish(group: readonly SerializedBatch[], written: WrittenGroup): Promise<void> {
    const { batches } = written;
    const open = this.#open;
    if (!open) throw new RuntimeError('store_unavailable', 'the store is closed');
    await written.durable.catch((error: unknown) => {
      throw this.#fail(error, 'write its journal');
    });
    // An earlier group failed after this one was journaled: it is durable (reopening replays it)
    // but is never applied here.
    if (this.#failure) throw this.#failure;
    let removals: string[] = [];
    try {
      for (const batch of batches) open.state.apply(batch);
      for (const { records } of batches) {
        for (const record of records) if (record.type === 'idempotency') open.tables.remember(record.record);
      }
      for (const id of open.creating) if (open.state.workers.has(id)) open.creating.delete(id);
      removals = open.state.removals;
      open.state.removals = [];
      if (removals.length > 0) {
        await open.checkpoints.idle();
        await open.materializer.flush();
        await removeWorkerDirs(this.#fs, open.layout, open.writer, removals);
      }
    } catch (error) {
      // The group is durable in the journal (reopening replays it) but not readable here.
      throw this.#fail(error, 'write its log files');
    }
    open.journalEnd = written.journal_end;
    const replaced = replacedWorkers(open.state, group);
    if (replaced.length > 0) {
      // One writer of snapshots at a time: a running checkpoint writes older ones.
      await open.checkpoints.idle();
      // Like a checkpoint: the group is already durable, a failed snapshot only stops later commits.
      await writeWorkerSnapshots(this.#fs, open, replaced).catch((error: unknown) =>
        this.#fail(error, 'write a worker snapshot'),
      );
    }
    if (this.#failure) return;
    if (written.exclusive) {
      // A delete, a trim, an expiry (exclusive-steps.ts). The group is durable; a failure only stops later commits.
      await runExclusiveSteps(this.#fs, open).catch((error: unknown) => this.#fail(error, 'write a checkpoint'));
    } else if (written.checkpoint) {
      open.checkpoints.behind(open.journalEnd);
    } else if (open.materializer.pending >= MATERIALIZE_BYTES) {
      // Reads wait for it if they need it; a failure stops later commits.
      this.#materialize().catch(() => undefined);
    }
  }

  /** Writes every applied record to the log files (see {@link Materializer}); a failure fails the store. */
  #materialize(): Promise<void> {
    const open = this.#readable();
    return open.materializer.flush().catch((error: unknown) => {
      throw this.#fail(error, 'write its log files');
    });
  }

  #fail(error: unknown, doing: string): RuntimeError {
    this.#failure ??=
      isRuntimeError(error) && error.code === 'store_unavailable' ? error : storeUnavailable(error, doing);
    return this.#failure;
  }

  /** Transcript entries with 0-based index `start` .. `start + limit - 1`, read from disk in O(limit). */
  async readTranscript(worker_id: string, start: number, limit: number): Promise<TranscriptEntry[]> {
    const { state, reads } = this.#readable();
    const unit = state.workers.get(worker_id);
    if (!unit) return [];
    await this.#materialize();
    const from = Math.max(0, start);
    const end = Math.min(start + limit, unit.readable_transcript_count);
    const lines = await this.#read(() => reads.transcript(unit, from, end));
    return this.#parseAll(
      TranscriptEntrySchema,
      lines,
      (i) => `transcript entry ${from + i + 1} of worker ${worker_id}`,
    );
  }

  /** Up to `limit` events after `after`, optionally only those naming `worker_id`; O(limit) from disk. */
  async readEvents(query: { after: number; limit: number; worker_id?: string }): Promise<RuntimeEvent[]> {
    const { state, reads } = this.#readable();
    const after = Math.max(0, query.after);
    reads.assertRetained(after);
    await this.#materialize();
    if (query.worker_id === undefined) {
      const lines = await this.#read(() => reads.events(after, query.limit));
      return this.#parseAll(RuntimeEventSchema, lines, (i) => `event ${after + i + 1}`);
    }
    const unit = state.workers.get(query.worker_id);
    if (!unit) return [];
    const lines = await this.#read(() => reads.workerEvents(unit, after, query.limit));
    return this.#parseAll(RuntimeEventSchema, lines, () => `an event of worker ${unit.worker_id}`);
  }

  /** The latest state of one run, or null. */
  async getRun(worker_id: string, run_id: string): Promise<RunRecord | null> {
    const open = this.#readable();
    const { state } = open;
    const unit = state.workers.get(worker_id);
    if (!unit) return null;
    const live = unit.unfinishedRun(run_id)?.run ?? (unit.last_run?.run.run_id === run_id ? unit.last_run.run : null);
    if (live) return structuredClone(live);
    const table = await open.tables.runs(unit);
    return structuredClone(table.byId.get(run_id) ?? null);
  }

  /** Up to `limit` runs of a worker in queue order, after `after_run_id` when given. */
  async listRuns(worker_id: string, query: { after_run_id?: string; limit: number }): Promise<RunRecord[]> {
    const { state, tables } = this.#readable();
    const unit = state.workers.get(worker_id);
    if (!unit) return [];
    const table = await tables.runs(unit);
    const from = query.after_run_id === undefined ? 0 : table.order.indexOf(query.after_run_id) + 1;
    if (query.after_run_id !== undefined && from === 0) return [];
    return structuredClone(table.order.slice(from, from + query.limit).map((id) => table.byId.get(id) as RunRecord));
  }

  /**
   * The idempotency record for a worker's key, or null; read from disk through a bounded cache.
   * @throws RuntimeError `idempotency_conflict` when damage lost the key's record (see docs/fs-store.md)
   */
  async getIdempotency(worker_id: string, key: string): Promise<IdempotencyRecord | null> {
    const { state, tables } = this.#readable();
    const unit = state.workers.get(worker_id);
    if (!unit) return null;
    return structuredClone(unexpired(await tables.idempotency(unit, key), state.idempotency_before));
  }

  /** Drops idempotency records made before `before`: at once for lookups, on disk in amortized rewrites. */
  async expireIdempotency(before: string): Promise<void> {
    return requestExpiry(this.#readable().state, before, () => this.commit([]));
  }

  /** Waits for pending commits, checkpoints (so the next open replays nothing) and releases the lock. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const open = this.#open;
    if (!open) return;
    await open.group.idle();
    await Promise.all([open.ids.idle(), open.checkpoints.idle()]);
    if (!this.#failure) await writeCheckpoint(this.#fs, open, open.journalEnd).catch(() => undefined);
    await open.materializer.idle();
    await open.journal.close();
    await open.writer.close();
    await releaseLock(this.#fs, open.layout.file(RUNTIME_FILES.lock)).catch(() => undefined);
    this.#open = null;
  }

  #readable(): OpenState {
    if (!this.#open) throw new RuntimeError('store_unavailable', 'the store is closed');
    return this.#open;
  }

  async #read<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw isRuntimeError(error) ? error : storeUnavailable(error, 'read its files');
    }
  }

  #parseAll<T>(schema: v.GenericSchema<unknown, T>, lines: string[], what: (i: number) => string): T[] {
    return parseLines(schema, lines, what, (label) => this.#corrupt(label));
  }

  #corrupt(what: string): void {
    this.#report(storeDiagnostic('warning', 'store_corrupt_record', `${what} could not be read and was skipped`));
  }

  #report(diagnostic: Diagnostic): void {
    this.#onDiagnostic(diagnostic);
    this.#reportDiagnostic?.(diagnostic);
  }
}

/**
 * Creates an fs store over `data_dir` (created if needed). Nothing is touched until `open()`.
 * @example
 * const runtime = await Runtime.open({ store: createFsStore({ data_dir: './.worker-runtime' }) });
 */
export function createFsStore({
  data_dir,
  checkpoint_bytes = 64 * 1024 * 1024,
  max_open_files = 1024,
  on_diagnostic = () => undefined,
  fs = nodeFs,
}: FsStoreOptions): FsStore {
  return new FsStore({ data_dir, checkpoint_bytes, max_open_files, on_diagnostic, fs });
}
