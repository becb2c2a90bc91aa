import { RuntimeError } from './errors.js';
import type { RunRecord } from './schemas/run.js';
import type { StoreRecord, WorkerRecord } from './store.js';
import { tallyEvent } from './store-bookkeeping.js';
import { type WorkerAddress, workerIdOf } from './worker-address.js';
import type { ActiveRun, QueuedRun, WorkerState } from './worker-state.js';

/**
 * A change to worker state that a committed batch makes. Admission, control, the executor and
 * recovery describe what their batch does with these; the {@link CommitLog} hands them to the
 * registry once the batch is durable, so memory never runs ahead of the store.
 */
export type WorkerChange =
  | { kind: 'worker_added'; state: WorkerState }
  | { kind: 'run_queued'; state: WorkerState; queued: QueuedRun }
  /** `dequeued`: the run was the head of the queue. Its user entry is the transcript's new end. */
  | { kind: 'run_started'; state: WorkerState; active: ActiveRun; dequeued: boolean }
  | { kind: 'entry_appended'; state: WorkerState; transcript_len: number }
  | { kind: 'run_updated'; state: WorkerState; active: ActiveRun; record: RunRecord }
  | { kind: 'run_ended'; state: WorkerState; active: ActiveRun; record: RunRecord; end_event_id: number }
  /** Queued runs were cancelled by the stop; `last_run` is the newest of them, if any. */
  | { kind: 'worker_stopped'; state: WorkerState; record: WorkerRecord; last_run: RunRecord | null }
  /** A run found unfinished at open was closed (interrupted). */
  | { kind: 'run_closed'; state: WorkerState; record: RunRecord }
  /** The worker was deleted: it leaves the table, its id stays reserved. */
  | { kind: 'worker_deleted'; state: WorkerState };

/**
 * The one owner of worker state: the table of live workers, in creation order. Nothing else
 * mutates a {@link WorkerState}; others read it and describe changes as {@link WorkerChange}s.
 */
export class WorkerRegistry {
  readonly runtime_id: string;
  readonly #byId = new Map<string, WorkerState>();
  /** Create idempotency keys (one scope per runtime) → the worker each created. */
  readonly #byCreateKey = new Map<string, WorkerState>();
  /** Ids of deleted workers (tombstones): never given to a new worker. */
  readonly #deleted: Set<string>;

  constructor(runtime_id: string, deleted: Iterable<string> = []) {
    this.runtime_id = runtime_id;
    this.#deleted = new Set(deleted);
  }

  /** How many workers this runtime holds. */
  get size(): number {
    return this.#byId.size;
  }

  has(worker_id: string): boolean {
    return this.#byId.has(worker_id);
  }

  /** Whether a worker holds the id now or held it before it was deleted. */
  isTaken(worker_id: string): boolean {
    return this.#byId.has(worker_id) || this.#deleted.has(worker_id);
  }

  /** Workers in creation order. */
  values(): IterableIterator<WorkerState> {
    return this.#byId.values();
  }

  /**
   * The worker an address names.
   * @throws RuntimeError `invalid_id`, `worker_not_found`
   */
  get(address: WorkerAddress): WorkerState {
    // Only valid ids are ever stored, so a hit by plain id needs no validation (the hot path of reads).
    const known = typeof address === 'string' ? this.#byId.get(address) : undefined;
    if (known !== undefined) return known;
    const id = workerIdOf(address, this.runtime_id);
    const state = this.#byId.get(id);
    if (!state) throw new RuntimeError('worker_not_found', `worker ${id} does not exist`);
    return state;
  }

  /** The worker a create with this idempotency key made, if any. */
  createdWith(key: string): WorkerState | undefined {
    return this.#byCreateKey.get(key);
  }

  /** Applies a durable batch: its changes, then the worker tallies of its events. */
  apply(records: readonly StoreRecord[], changes: readonly WorkerChange[]): void {
    for (const change of changes) this.#applyChange(change);
    for (const record of records) {
      if (record.type !== 'event' || !record.event.worker_ref) continue;
      const state = this.#byId.get(record.event.worker_ref.worker_id);
      if (state) tallyEvent(state, record.event);
    }
  }

  /** An input with `on_busy: interrupt` starts waiting for the active run to end. */
  interruptBegan(state: WorkerState): void {
    state.interrupts_pending++;
  }

  interruptEnded(state: WorkerState): void {
    state.interrupts_pending--;
  }

  /** A stop is (or is no longer) cancelling the worker's active run. */
  setStopping(state: WorkerState, stopping: boolean): void {
    state.stopping = stopping;
  }

  #applyChange(change: WorkerChange): void {
    const { state } = change;
    switch (change.kind) {
      case 'worker_added':
        this.#byId.set(state.record.worker_id, state);
        if (state.record.idempotency) this.#byCreateKey.set(state.record.idempotency.key, state);
        return;
      case 'run_queued':
        state.queue.push(change.queued);
        return;
      case 'run_started':
        if (change.dequeued) state.queue.shift();
        state.active = change.active;
        state.transcript_len = change.active.record.input_sequence ?? state.transcript_len;
        return;
      case 'entry_appended':
        state.transcript_len = change.transcript_len;
        return;
      case 'run_updated':
        change.active.record = change.record;
        return;
      case 'run_ended':
        change.active.record = change.record;
        change.active.end_event_id = change.end_event_id;
        if (state.active === change.active) state.active = null;
        state.last_run = change.record;
        return;
      case 'worker_stopped':
        state.record = change.record;
        state.queue = [];
        if (change.last_run) state.last_run = change.last_run;
        return;
      case 'run_closed':
        state.last_run = change.record;
        return;
      case 'worker_deleted':
        this.#byId.delete(state.record.worker_id);
        if (state.record.idempotency) this.#byCreateKey.delete(state.record.idempotency.key);
        this.#deleted.add(state.record.worker_id);
        return;
    }
  }
}
