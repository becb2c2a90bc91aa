import { RuntimeError } from './errors.js';
import type { RuntimeEvent } from './schemas/event.js';
import type { RunRecord } from './schemas/run.js';
import type { Diagnostic } from './schemas/runtime.js';
import type { TranscriptEntry } from './schemas/transcript.js';
import type {
  IdempotencyRecord,
  RuntimeRecord,
  RuntimeStore,
  StoredRun,
  StoreOpenRequest,
  StoreRecord,
  StoreSnapshot,
  WorkerRecord,
} from './store.js';
import { type EventTally, newTally, type RunTally, storedWorker, tallyEvent, tallyRun } from './store-bookkeeping.js';

// Collections are created on first use: most idle workers never need them, and each empty Map
// costs more heap than the rest of the worker.
// The worker is its own tally (no extra object per idle worker).
interface MemoryWorker extends RunTally, EventTally {
  record: WorkerRecord;
  transcript: TranscriptEntry[] | null;
  runs: Map<string, StoredRun> | null;
  idempotency: Map<string, IdempotencyRecord> | null;
}

/**
 * The default store: everything in process memory, lost when the process exits. The same instance
 * can be closed and reopened (tests use that to exercise recovery). Keeps the newest
 * `max_retained_events` events; older cursors get `cursor_expired`.
 */
export class MemoryStore implements RuntimeStore {
  readonly kind = 'memory';
  #runtime: RuntimeRecord | null = null;
  #workers = new Map<string, MemoryWorker>();
  #events: RuntimeEvent[] = [];
  #lastEventId = 0;
  #diagnostics: Diagnostic[] = [];
  #maxDiagnostics = 1000;
  #maxRetainedEvents = 100_000;
  #open = false;

  async open(request: StoreOpenRequest): Promise<StoreSnapshot> {
    if (this.#open) throw new RuntimeError('store_locked', 'this memory store is already open in another Runtime');
    if (this.#runtime && request.runtime_id !== undefined && request.runtime_id !== this.#runtime.runtime_id) {
      throw new RuntimeError('invalid_request', `this memory store holds runtime ${this.#runtime.runtime_id}`);
    }
    this.#runtime ??= {
      runtime_id: request.runtime_id ?? request.generate_id(),
      display_name: request.display_name ?? null,
      created_at: request.now,
    };
    this.#maxDiagnostics = request.max_diagnostics;
    this.#maxRetainedEvents = request.max_retained_events;
    this.#diagnostics = this.#diagnostics.slice(-this.#maxDiagnostics);
    this.#open = true;
    return {
      runtime: { ...this.#runtime },
      workers: [...this.#workers.values()].map((worker) =>
        storedWorker(worker.record, worker.transcript?.length ?? 0, worker),
      ),
      last_event_id: this.#lastEventId,
      diagnostics: structuredClone(this.#diagnostics),
      recovery_diagnostics: [],
    };
  }

  async commit(records: readonly StoreRecord[]): Promise<void> {
    if (!this.#open) throw new RuntimeError('store_unavailable', 'the store is closed');
    // Records are kept by reference (the Runtime never mutates a committed record; it replaces it),
    // which keeps commits cheap and idle workers small. Reads hand out clones.
    for (const record of records) this.#apply(record);
  }

  #apply(record: StoreRecord): void {
    switch (record.type) {
      case 'runtime':
        this.#runtime = record.runtime;
        return;
      case 'worker': {
        const existing = this.#workers.get(record.worker.worker_id);
        if (existing) existing.record = record.worker;
        else {
          this.#workers.set(record.worker.worker_id, {
            record: record.worker,
            transcript: null,
            runs: null,
            ...newTally(record.worker),
            idempotency: null,
          });
        }
        return;
      }
      case 'run': {
        const worker = this.#worker(record.run.worker_id);
        worker.runs ??= new Map();
        worker.runs.set(record.run.run.run_id, record.run);
        tallyRun(worker, record.run);
        return;
      }
      case 'transcript': {
        const worker = this.#worker(record.entry.worker_ref.worker_id);
        worker.transcript ??= [];
        worker.transcript.push(record.entry);
        return;
      }
      case 'event': {
        const { event } = record;
        this.#events.push(event);
        this.#lastEventId = event.id;
        if (event.worker_ref) {
          const worker = this.#workers.get(event.worker_ref.worker_id);
          if (worker) tallyEvent(worker, event);
        }
        if (this.#events.length > this.#maxRetainedEvents) {
          this.#events.splice(0, this.#events.length - this.#maxRetainedEvents);
        }
        return;
      }
      case 'idempotency':
        {
          // Cloned: the same ack object is also handed to the caller.
          const worker = this.#worker(record.record.worker_id);
          worker.idempotency ??= new Map();
          worker.idempotency.set(record.record.key, structuredClone(record.record));
        }
        return;
      case 'diagnostic':
        this.#diagnostics.push(record.diagnostic);
        if (this.#diagnostics.length > this.#maxDiagnostics) {
          this.#diagnostics.splice(0, this.#diagnostics.length - this.#maxDiagnostics);
        }
        return;
    }
  }

  #worker(worker_id: string): MemoryWorker {
    const worker = this.#workers.get(worker_id);
    if (!worker) throw new RuntimeError('worker_not_found', `worker ${worker_id} is not in the store`);
    return worker;
  }

  async readTranscript(worker_id: string, start: number, limit: number): Promise<TranscriptEntry[]> {
    return structuredClone(this.#workers.get(worker_id)?.transcript?.slice(start, start + limit) ?? []);
  }

  async readEvents(query: { after: number; limit: number; worker_id?: string }): Promise<RuntimeEvent[]> {
    const oldest = this.#events[0]?.id ?? this.#lastEventId + 1;
    if (query.after < oldest - 1) {
      throw new RuntimeError('cursor_expired', `events after ${query.after} are no longer retained`, {
        details: { oldest_available: oldest },
      });
    }
    // Ids are dense, so the first event after `after` sits at a computable index.
    const items: RuntimeEvent[] = [];
    for (let i = Math.max(0, query.after + 1 - oldest); i < this.#events.length && items.length < query.limit; i++) {
      const event = this.#events[i] as RuntimeEvent;
      if (query.worker_id === undefined || event.worker_ref?.worker_id === query.worker_id) items.push(event);
    }
    return structuredClone(items);
  }

  async getRun(worker_id: string, run_id: string): Promise<RunRecord | null> {
    return structuredClone(this.#workers.get(worker_id)?.runs?.get(run_id)?.run ?? null);
  }

  async listRuns(worker_id: string, query: { after_run_id?: string; limit: number }): Promise<RunRecord[]> {
    const runs = [...(this.#workers.get(worker_id)?.runs?.values() ?? [])].map((stored) => stored.run);
    const from = query.after_run_id === undefined ? 0 : runs.findIndex((run) => run.run_id === query.after_run_id) + 1;
    if (query.after_run_id !== undefined && from === 0) return [];
    return structuredClone(runs.slice(from, from + query.limit));
  }

  async getIdempotency(worker_id: string, key: string): Promise<IdempotencyRecord | null> {
    return structuredClone(this.#workers.get(worker_id)?.idempotency?.get(key) ?? null);
  }

  async close(): Promise<void> {
    this.#open = false;
  }
}

/** Creates an empty in-memory store. */
export function createMemoryStore(): MemoryStore {
  return new MemoryStore();
}
