import { isRuntimeError, RuntimeError } from './errors.js';
import { generateId } from './identity.js';
import { Notifier } from './notifier.js';
import type { RuntimeMetrics } from './runtime-metrics.js';
import type { WorkerRef } from './schemas/common.js';
import type { EventKind, RuntimeEvent } from './schemas/event.js';
import type { Diagnostic, Severity } from './schemas/runtime.js';
import type { TranscriptEntry, TranscriptEntryExtras, TranscriptRole } from './schemas/transcript.js';
import type { RuntimeStore, StoreRecord } from './store.js';
import type { Timestamps } from './timestamps.js';
import type { WorkerChange, WorkerRegistry } from './worker-registry.js';
import type { WorkerState } from './worker-state.js';

/** Listener for committed events, in id order. */
export type EventListener = (event: RuntimeEvent) => void;

/** Listener for the store failure that makes a Runtime read-only; called once. */
export type StoreFailureListener = (failure: RuntimeError) => void;

/** Where an event points. */
export interface EventTarget {
  /** The worker it names (its shared ref object: events and entries are never mutated). */
  worker?: WorkerRef;
  run_id?: string;
  data?: Record<string, unknown>;
}

const NOWHERE: EventTarget = {};
const NO_CHANGES: readonly WorkerChange[] = [];

/**
 * An event, its fields in wire order. The common shapes are plain literals: spreads allocate and
 * copy a temporary object each, and fields assigned one by one would sit out of line (more heap per
 * retained event).
 */
function newEvent(id: number, kind: EventKind, message: string, created_at: string, at: EventTarget): RuntimeEvent {
  const { worker: worker_ref, run_id, data } = at;
  if (worker_ref !== undefined && run_id !== undefined) {
    return data === undefined
      ? { id, kind, worker_ref, run_id, message, created_at }
      : { id, kind, worker_ref, run_id, message, created_at, data };
  }
  if (worker_ref !== undefined) {
    return data === undefined
      ? { id, kind, worker_ref, message, created_at }
      : { id, kind, worker_ref, message, created_at, data };
  }
  return {
    id,
    kind,
    ...(run_id !== undefined ? { run_id } : {}),
    message,
    created_at,
    ...(data !== undefined ? { data } : {}),
  };
}

/** A batch handed to the store and not yet applied. */
interface PendingBatch {
  records: StoreRecord[];
  changes: readonly WorkerChange[];
  /** `performance.now()` when it was handed to the store (-1 when no metrics observer listened). */
  started: number;
  /** Set once the store settled it: `written`, or failed with `error`. */
  settled: 'written' | 'failed' | null;
  error: unknown;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** `drained()` callers waiting for this batch (the newest when they asked). */
  drained: (() => void)[] | null;
}

/**
 * Builds batches of store records and commits them in order. Event ids are allocated as batches are
 * built and become visible (to readers, subscribers and long-polls) only once their batch is
 * durable, strictly in call order, so the visible log is always dense. A durable batch's worker
 * changes go to the {@link WorkerRegistry} before its events are published.
 */
export class CommitLog {
  /** Wakes long-polls after every applied batch, and for good on close. */
  readonly changes = new Notifier<WorkerChange>();
  readonly #store: RuntimeStore;
  readonly #clock: Timestamps;
  readonly #workers: WorkerRegistry;
  readonly #maxDiagnostics: number;
  readonly #metrics: RuntimeMetrics | undefined;
  readonly #listeners = new Set<EventListener>();
  readonly #failureListeners = new Set<StoreFailureListener>();
  #diagnostics: Diagnostic[];
  #nextEventId: number;
  #lastEventId: number;
  /** Batches handed to the store and not yet applied, oldest first. */
  readonly #pending: PendingBatch[] = [];
  #failure: RuntimeError | null = null;

  constructor(options: {
    store: RuntimeStore;
    clock: Timestamps;
    workers: WorkerRegistry;
    last_event_id: number;
    diagnostics: Diagnostic[];
    max_diagnostics: number;
    /** Tallies every durable batch and times each commit. */
    metrics?: RuntimeMetrics;
  }) {
    this.#metrics = options.metrics;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#workers = options.workers;
    this.#nextEventId = options.last_event_id + 1;
    this.#lastEventId = options.last_event_id;
    this.#maxDiagnostics = options.max_diagnostics;
    this.#diagnostics = options.diagnostics.slice(-options.max_diagnostics);
  }

  /** The highest event id whose batch is durable and applied. */
  get lastEventId(): number {
    return this.#lastEventId;
  }

  /** The id the next event added to a batch will get. */
  get nextEventId(): number {
    return this.#nextEventId;
  }

  /** The store failure that made the Runtime read-only, if any. */
  get failure(): RuntimeError | null {
    return this.#failure;
  }

  /**
   * Adds an event to a batch; returns its id. Records built together may share one `created_at`
   * (one clock read per batch: formatting the time was ~4% of a cycle's CPU).
   */
  event(
    records: StoreRecord[],
    kind: EventKind,
    message: string,
    at: EventTarget = NOWHERE,
    created_at: string = this.#clock.iso(),
  ): number {
    const id = this.#nextEventId++;
    const event = newEvent(id, kind, message, created_at, at);
    records.push({ type: 'event', event });
    return id;
  }

  /** Adds a transcript entry and its event to a batch; returns the entry's sequence. */
  entry(
    records: StoreRecord[],
    state: WorkerState,
    role: TranscriptRole,
    content: string,
    run_id: string | null,
    extras?: TranscriptEntryExtras,
    created_at: string = this.#clock.iso(),
  ): number {
    let pendingEntries = 0;
    for (const record of records) if (record.type === 'transcript') pendingEntries++;
    const sequence = state.transcript_len + pendingEntries + 1;
    const data = { sequence, role };
    const target: EventTarget = run_id === null ? { worker: state.ref, data } : { worker: state.ref, run_id, data };
    const event_id = this.event(
      records,
      'transcript_appended',
      `${role} entry ${sequence} appended`,
      target,
      created_at,
    );
    const entry: TranscriptEntry = {
      sequence,
      worker_ref: state.ref,
      role,
      content,
      run_id,
      event_id,
      created_at,
    };
    if (extras !== undefined) Object.assign(entry, extras);
    records.push({ type: 'transcript', entry });
    return sequence;
  }

  /** Adds a new diagnostic (and its event) to a batch. */
  diagnostic(records: StoreRecord[], severity: Severity, code: string, message: string, worker?: WorkerRef): void {
    this.recordDiagnostic(records, {
      id: generateId(this.#clock.millis()),
      severity,
      code,
      message,
      ...(worker !== undefined ? { worker_ref: worker } : {}),
      created_at: this.#clock.iso(),
    });
  }

  /** Adds an existing diagnostic (e.g. raised by the store while opening) and its event to a batch. */
  recordDiagnostic(records: StoreRecord[], diagnostic: Diagnostic): void {
    records.push({ type: 'diagnostic', diagnostic });
    // The message stays in the diagnostic; the event only names it (events are many, and kept).
    this.event(records, 'diagnostic_recorded', `${diagnostic.severity} diagnostic ${diagnostic.code}`, {
      ...(diagnostic.worker_ref ? { worker: diagnostic.worker_ref } : {}),
      data: { diagnostic_id: diagnostic.id, severity: diagnostic.severity, code: diagnostic.code },
    });
  }

  /**
   * Commits a batch, then applies its worker `changes` and publishes its events, strictly in call
   * order. A failed commit makes every later one fail with `store_unavailable` until reopen.
   * @throws RuntimeError `store_unavailable`
   */
  commit(records: StoreRecord[], changes: readonly WorkerChange[] = NO_CHANGES): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const started = this.#metrics?.observed ? performance.now() : -1;
    const written = this.#store.commit(records);
    // Batches settle strictly in call order: each waits in `#pending` until those before it did.
    // One reaction per batch (no promise chain through the previous batch) keeps commits cheap.
    return new Promise<void>((resolve, reject) => {
      const batch: PendingBatch = {
        records,
        changes,
        started,
        settled: null,
        error: undefined,
        resolve,
        reject,
        drained: null,
      };
      this.#pending.push(batch);
      written.then(
        () => {
          batch.settled = 'written';
          this.#settle();
        },
        (error: unknown) => {
          batch.settled = 'failed';
          batch.error = error;
          this.#settle();
        },
      );
    });
  }

  /** Applies or fails, in call order, every batch at the head of `#pending` that the store settled. */
  #settle(): void {
    const pending = this.#pending;
    let head = pending[0];
    while (head !== undefined && head.settled !== null) {
      pending.shift();
      if (head.settled === 'written') {
        this.#workers.apply(head.records, head.changes);
        this.#publish(head.records, head.changes);
        this.#metrics?.committed(head.records, head.started);
        head.resolve();
      } else {
        this.#metrics?.failed();
        if (!this.#failure) {
          const error = head.error;
          this.#failure =
            isRuntimeError(error) && error.code === 'store_unavailable'
              ? error
              : new RuntimeError(
                  'store_unavailable',
                  'the store could not write; the runtime accepts no changes until it is reopened',
                  { cause: error },
                );
          this.#announceFailure(this.#failure);
        }
        head.reject(this.#failure);
      }
      if (head.drained) for (const done of head.drained) done();
      head = pending[0];
    }
  }

  /** Resolves once every batch committed so far has settled. */
  drained(): Promise<void> {
    const newest = this.#pending[this.#pending.length - 1];
    if (newest === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      newest.drained ??= [];
      newest.drained.push(resolve);
    });
  }

  /** Calls `listener` with every event applied from now on. Returns an unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Calls `listener` once with the store failure that makes the Runtime read-only (at once, in a
   * microtask, if the store already failed). Returns an unsubscribe function.
   */
  onFailure(listener: StoreFailureListener): () => void {
    const failure = this.#failure;
    if (failure) {
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) notify(listener, failure);
      });
      return () => {
        cancelled = true;
      };
    }
    this.#failureListeners.add(listener);
    return () => {
      this.#failureListeners.delete(listener);
    };
  }

  #announceFailure(failure: RuntimeError): void {
    const listeners = [...this.#failureListeners];
    this.#failureListeners.clear();
    for (const listener of listeners) notify(listener, failure);
  }

  /** The newest diagnostics, oldest first (a copy). */
  diagnostics(): Diagnostic[] {
    return structuredClone(this.#diagnostics);
  }

  #publish(records: readonly StoreRecord[], changes: readonly WorkerChange[]): void {
    for (const record of records) {
      if (record.type === 'diagnostic') {
        this.#diagnostics.push(record.diagnostic);
        if (this.#diagnostics.length > this.#maxDiagnostics) this.#diagnostics.shift();
      }
      if (record.type !== 'event') continue;
      const { event } = record;
      this.#lastEventId = event.id;
      for (const listener of this.#listeners) notify(listener, structuredClone(event));
    }
    this.changes.notify(changes);
  }
}

function notify<T>(listener: (value: T) => void, value: T): void {
  try {
    listener(value);
  } catch {
    // A listener's failure is its own; the Runtime goes on.
  }
}
