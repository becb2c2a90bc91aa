import { CommitLog, type EventListener } from './commit-log.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { WorkerEngine } from './engine.js';
import { isRuntimeError, RuntimeError } from './errors.js';
import { assertValidId, displayRef, generateId } from './identity.js';
import { type AcceptanceContext, acceptAndQueue, acceptAndStart, acceptSystemInput } from './input-acceptance.js';
import { pageLimit, resolveLimits } from './limits.js';
import { MemoryStore } from './memory-store.js';
import { Mutex } from './mutex.js';
import { OutputDeltas } from './output-deltas.js';
import { ProfileCatalog } from './profiles.js';
import { planRecovery } from './recovery.js';
import { RunExecutor } from './run-executor.js';
import { DisplayNameSchema, MAX_TIMER_MS, type WorkerRef } from './schemas/common.js';
import { type EventBatch, EventQuerySchema, type RuntimeEvent } from './schemas/event.js';
import {
  type ControlAck,
  type ControlRequest,
  ControlRequestSchema,
  type InputAck,
  type InputRequest,
  InputRequestSchema,
} from './schemas/input.js';
import {
  type GetRunOptions,
  GetRunOptionsSchema,
  type ListRunsQuery,
  ListRunsQuerySchema,
  type RunPage,
  type RunRecord,
  TERMINAL_RUN_STATUSES,
} from './schemas/run.js';
import type { Diagnostic, Limits, RuntimeCapabilities, RuntimeStatus, RuntimeSummary } from './schemas/runtime.js';
import { type TranscriptPage, type TranscriptQuery, TranscriptQuerySchema } from './schemas/transcript.js';
import {
  type CreateWorkerRequest,
  CreateWorkerRequestSchema,
  type ListWorkersQuery,
  ListWorkersQuerySchema,
  type WorkerDetail,
  type WorkerPage,
} from './schemas/worker.js';
import type { RuntimeStore, StoreRecord, StoreSnapshot, WorkerRecord } from './store.js';
import { Timestamps } from './timestamps.js';
import { parseOrThrow } from './validation.js';
import { VERSION } from './version.js';
import { type ActiveRun, newWorkerState, toDetail, toSummary, type WorkerState, workerStatus } from './worker-state.js';

export type { EventListener } from './commit-log.js';

/** Options of {@link Runtime.open}. */
export interface RuntimeOptions {
  /** Open (or create) this runtime id; otherwise the store's own or a new random one. */
  runtime_id?: string;
  /** A human label used only when the runtime is created. */
  display_name?: string;
  /** Where state lives (default: a new in-memory store). */
  store?: RuntimeStore;
  /** Named profiles: `{ name: { engine, description?, run_timeout_ms?, idle_timeout_ms?, capabilities?, …options } }`. */
  profiles?: Record<string, unknown>;
  /** Engines profiles may name, besides the built-in `echo`. */
  engines?: readonly WorkerEngine[];
  /** The profile `runtime_default` means (default: the built-in echo profile). */
  default_profile?: string;
  /** Overrides of SPEC §11 limits. */
  limits?: Partial<Limits>;
  /** Milliseconds since the epoch (default `Date.now`); used for timestamps, not timers. */
  clock?: () => number;
}

/** A worker addressed by id (within this runtime) or by its full `worker_ref`. */
export type WorkerAddress = string | WorkerRef;

const DEFAULT_PAGE = 100;
// Object keys a JavaScript record cannot hold as plain data (valibot's record drops them silently).
const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'];

function assertNoReservedKeys(metadata: unknown): void {
  if (!metadata || typeof metadata !== 'object') return;
  const reserved = Object.keys(metadata).filter((key) => RESERVED_KEYS.includes(key));
  if (reserved.length > 0) {
    throw new RuntimeError('invalid_request', `metadata keys ${RESERVED_KEYS.join(', ')} are reserved`, {
      details: { issues: reserved.map((key) => ({ path: `metadata.${key}`, message: 'this key is reserved' })) },
    });
  }
}
const EMPTY_LIST: readonly never[] = Object.freeze([]);
const EMPTY_RECORD: Readonly<Record<string, never>> = Object.freeze({});

/**
 * A Runtime hosts many Workers, each addressed by `runtime_id + worker_id`. Every method is async and
 * throws {@link RuntimeError}. Each acknowledged mutation is durable in the store before it resolves.
 *
 * Browsers never talk to a Runtime: it is driven by a trusted backend, in process or over REST.
 *
 * @example
 * const runtime = await Runtime.open();
 * const { worker_id } = await runtime.createWorker({ intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
 * const ack = await runtime.sendInput(worker_id, { kind: 'user', content: 'hello' });
 * await runtime.getRun(worker_id, ack.run_id as string, { wait_ms: 5000 });
 * console.log((await runtime.transcript(worker_id)).items);
 */
export class Runtime {
  readonly runtime_id: string;
  readonly display_name: string | null;
  readonly limits: Readonly<Limits>;
  readonly #store: RuntimeStore;
  readonly #catalog: ProfileCatalog;
  readonly #clock: Timestamps;
  readonly #workers = new Map<string, WorkerState>();
  readonly #createLock = new Mutex();
  readonly #log: CommitLog;
  readonly #executor: RunExecutor;
  readonly #acceptance: AcceptanceContext;
  readonly #startedAt: string;
  /** Output deltas of active runs (SPEC §12); live streams subscribe here. */
  readonly #deltas = new OutputDeltas();
  readonly #engines: readonly WorkerEngine[];
  #status: RuntimeStatus = 'running';
  #closing: Promise<void> | null = null;

  private constructor(
    store: RuntimeStore,
    catalog: ProfileCatalog,
    limits: Limits,
    snapshot: StoreSnapshot,
    clock: Timestamps,
    engines: readonly WorkerEngine[],
  ) {
    this.#store = store;
    this.#engines = engines;
    this.#catalog = catalog;
    this.limits = Object.freeze({ ...limits });
    this.#clock = clock;
    this.runtime_id = snapshot.runtime.runtime_id;
    this.display_name = snapshot.runtime.display_name;
    this.#startedAt = clock.iso();
    this.#log = new CommitLog({
      store,
      runtime_id: this.runtime_id,
      clock,
      workers: this.#workers,
      last_event_id: snapshot.last_event_id,
      diagnostics: snapshot.diagnostics,
      max_diagnostics: limits.max_diagnostics,
    });
    this.#executor = new RunExecutor({
      log: this.#log,
      store,
      catalog,
      clock,
      cancel_grace_ms: limits.cancel_grace_ms,
      accepting: () => this.#status === 'running',
      displayRef: (state) => displayRef(state.record, this),
      deltas: this.#deltas,
    });
    this.#acceptance = { log: this.#log, executor: this.#executor, max_queued_inputs: limits.max_queued_inputs };
  }

  /**
   * Opens a Runtime on a store (default: memory), recovering what the store holds: runs found
   * `running` become `interrupted`, queued inputs resume in order.
   * @throws RuntimeError `invalid_id`, `invalid_request`, `unknown_profile`, `store_locked`, `store_unavailable`
   */
  static async open(options: RuntimeOptions = {}): Promise<Runtime> {
    const limits = resolveLimits(options.limits ?? {});
    if (options.runtime_id !== undefined) assertValidId(options.runtime_id, 'runtime_id');
    if (options.display_name !== undefined) parseOrThrow(DisplayNameSchema, options.display_name, 'display_name');
    const catalog = new ProfileCatalog(options);
    const store = options.store ?? new MemoryStore();
    const clock = new Timestamps(options.clock ?? Date.now);
    // Diagnostics a store raises after opening reach the Runtime once it exists.
    let report: (diagnostic: Diagnostic) => void = () => undefined;
    const snapshot = await store.open({
      report_diagnostic: (diagnostic) => report(diagnostic),
      ...(options.runtime_id !== undefined ? { runtime_id: options.runtime_id } : {}),
      ...(options.display_name !== undefined ? { display_name: options.display_name } : {}),
      generate_id: () => generateId(),
      now: clock.iso(),
      max_diagnostics: limits.max_diagnostics,
      max_retained_events: limits.max_retained_events,
    });
    const runtime = new Runtime(store, catalog, limits, snapshot, clock, options.engines ?? []);
    report = (diagnostic) => runtime.#recordLateDiagnostic(diagnostic);
    try {
      await runtime.#recover(snapshot);
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
    return runtime;
  }

  // ---------------------------------------------------------------- reads

  /** Ids, status, counts, limits, capabilities and profiles of this Runtime. */
  async summary(): Promise<RuntimeSummary> {
    const workers = { total: 0, idle: 0, running: 0, stopped: 0 };
    let queued = 0;
    for (const state of this.#workers.values()) {
      workers.total++;
      workers[workerStatus(state)]++;
      queued += state.queue.length;
    }
    return {
      runtime_id: this.runtime_id,
      display_name: this.display_name,
      status: this.#status,
      store: this.#store.kind,
      workers,
      active_runs: workers.running,
      queued_inputs: queued,
      last_event_id: this.#log.lastEventId,
      limits: { ...this.limits },
      capabilities: await this.capabilities(),
      profiles: this.#catalog.list(),
      default_profile: this.#catalog.defaultName,
      version: VERSION,
      started_at: this.#startedAt,
    };
  }

  /** Engines, capabilities, input kinds and busy policies this Runtime supports. */
  async capabilities(): Promise<RuntimeCapabilities> {
    return {
      engines: this.#catalog.engineNames(),
      capabilities: this.#catalog.capabilityNames(),
      input_kinds: ['user', 'system'],
      busy_policies: ['reject', 'enqueue', 'interrupt'],
      config_bundles: false,
    };
  }

  /** The newest diagnostics (at most `limits.max_diagnostics`), oldest first. */
  async diagnostics(): Promise<Diagnostic[]> {
    return this.#log.diagnostics();
  }

  /**
   * Workers in creation order, optionally only those with `status`.
   * @throws RuntimeError `invalid_request`, `limit_too_large`
   */
  async listWorkers(query: ListWorkersQuery = {}): Promise<WorkerPage> {
    const q = parseOrThrow(ListWorkersQuerySchema, query, 'query');
    const limit = pageLimit(q.limit, this.limits.max_list_page, DEFAULT_PAGE);
    const after = q.cursor === undefined ? null : decodeCursor(q.cursor);
    if (after !== null && !this.#workers.has(after)) throw new RuntimeError('invalid_request', 'cursor is not valid');
    const workers = [];
    let passed = after === null;
    let next_cursor: string | null = null;
    for (const state of this.#workers.values()) {
      if (!passed) {
        passed = state.record.worker_id === after;
        continue;
      }
      if (q.status !== undefined && workerStatus(state) !== q.status) continue;
      if (workers.length === limit) {
        next_cursor = encodeCursor(workers[workers.length - 1]?.worker_id as string);
        break;
      }
      workers.push(toSummary(state, this));
    }
    return { workers, next_cursor };
  }

  /**
   * One Worker with its last run and creation inputs.
   * @throws RuntimeError `invalid_id`, `worker_not_found`
   */
  async getWorker(worker: WorkerAddress): Promise<WorkerDetail> {
    return toDetail(this.#worker(worker), this);
  }

  /**
   * A number that changes whenever anything in the Worker's detail changes (it is the id of the
   * newest event naming the Worker). Lets a caller cache a detail, or serve conditional requests.
   * @throws RuntimeError `invalid_id`, `worker_not_found`
   */
  async workerRevision(worker: WorkerAddress): Promise<number> {
    return this.#worker(worker).last_event_id;
  }

  /**
   * One run. With `wait_ms`, waits (at most `limits.max_wait_ms`) until the run is terminal.
   * @throws RuntimeError `invalid_id`, `worker_not_found`, `run_not_found`
   */
  async getRun(worker: WorkerAddress, run_id: string, options: GetRunOptions = {}): Promise<RunRecord> {
    const state = this.#worker(worker);
    assertValidId(run_id, 'run_id');
    const { wait_ms = 0 } = parseOrThrow(GetRunOptionsSchema, options, 'options');
    const deadline = Date.now() + Math.min(wait_ms, this.limits.max_wait_ms);
    for (;;) {
      const run = await this.#findRun(state, run_id);
      if (!run)
        throw new RuntimeError('run_not_found', `run ${run_id} does not exist on worker ${state.record.worker_id}`);
      const remaining = deadline - Date.now();
      if (TERMINAL_RUN_STATUSES.includes(run.status) || remaining <= 0 || this.#log.changes.closed) return run;
      await this.#log.changes.wait(remaining);
    }
  }

  /**
   * A worker's runs, oldest first.
   * @throws RuntimeError `invalid_id`, `worker_not_found`, `invalid_request`, `limit_too_large`
   */
  async listRuns(worker: WorkerAddress, query: ListRunsQuery = {}): Promise<RunPage> {
    const state = this.#worker(worker);
    const q = parseOrThrow(ListRunsQuerySchema, query, 'query');
    const limit = pageLimit(q.limit, this.limits.max_list_page, DEFAULT_PAGE);
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (after !== undefined && !(await this.#findRun(state, after)))
      throw new RuntimeError('invalid_request', 'cursor is not valid');
    const runs = await this.#store.listRuns(state.record.worker_id, {
      ...(after !== undefined ? { after_run_id: after } : {}),
      limit: limit + 1,
    });
    const page = runs.slice(0, limit).map((run) => this.#liveRun(state, run));
    const last = page[page.length - 1];
    return { runs: page, next_cursor: runs.length > limit && last ? encodeCursor(last.run_id) : null };
  }

  /**
   * A page of a worker's transcript. `start` is 0-based; `tail=N` returns the last N entries.
   * @throws RuntimeError `invalid_id`, `worker_not_found`, `invalid_request`, `limit_too_large`
   */
  async transcript(worker: WorkerAddress, query: TranscriptQuery = {}): Promise<TranscriptPage> {
    const state = this.#worker(worker);
    const q = parseOrThrow(TranscriptQuerySchema, query, 'query');
    const total = state.transcript_len;
    const max = this.limits.max_transcript_page;
    let start: number;
    let limit: number;
    if (q.tail !== undefined) {
      if (q.start !== undefined) throw new RuntimeError('invalid_request', 'use either start or tail, not both');
      limit = pageLimit(q.limit ?? q.tail, max, 256);
      start = Math.max(0, total - q.tail);
    } else {
      start = q.start ?? 0;
      limit = pageLimit(q.limit, max, 256);
    }
    const count = Math.max(0, Math.min(limit, total - start));
    const items = count > 0 ? await this.#store.readTranscript(state.record.worker_id, start, count) : [];
    const end = start + items.length;
    return {
      worker_ref: this.#log.ref(state.record.worker_id),
      start,
      limit,
      total_items: total,
      items,
      next_start: end < total ? end : null,
    };
  }

  /**
   * Events after `after` (default 0), oldest first. With `wait_ms`, waits (at most
   * `limits.max_wait_ms`) while nothing is after `after`.
   * @throws RuntimeError `invalid_request`, `invalid_id`, `limit_too_large`, `cursor_expired`
   */
  async readEvents(
    query: { after?: number; limit?: number; worker_id?: string; wait_ms?: number } = {},
  ): Promise<EventBatch> {
    if (query.worker_id !== undefined) assertValidId(query.worker_id, 'worker_id');
    const q = parseOrThrow(EventQuerySchema, query, 'query');
    const limit = pageLimit(q.limit, this.limits.max_event_batch, DEFAULT_PAGE);
    // No cursor means "from the oldest event still retained", so a default read never expires.
    let after = q.after ?? 0;
    if (after > this.#log.lastEventId) {
      throw new RuntimeError(
        'invalid_request',
        `cursor ${after} is ahead of the event log (last event ${this.#log.lastEventId})`,
        {
          details: { last_event_id: this.#log.lastEventId },
        },
      );
    }
    const deadline = Date.now() + Math.min(q.wait_ms ?? 0, this.limits.max_wait_ms);
    for (;;) {
      const watermark = this.#log.lastEventId;
      let read: RuntimeEvent[];
      try {
        read = await this.#store.readEvents({
          after,
          limit: limit + 1,
          ...(q.worker_id !== undefined ? { worker_id: q.worker_id } : {}),
        });
      } catch (error) {
        const oldest =
          isRuntimeError(error) && error.code === 'cursor_expired' ? error.details?.oldest_available : undefined;
        if (q.after !== undefined || typeof oldest !== 'number' || oldest - 1 <= after) throw error;
        after = oldest - 1;
        continue;
      }
      const fetched = read.filter((event) => event.id <= watermark);
      const items = fetched.slice(0, limit);
      const remaining = deadline - Date.now();
      if (items.length > 0 || remaining <= 0 || this.#log.changes.closed) {
        const last = items[items.length - 1];
        return {
          runtime_id: this.runtime_id,
          items,
          next_after: last ? last.id : after,
          has_more: fetched.length > limit,
        };
      }
      await this.#log.changes.wait(remaining);
    }
  }

  /** Calls `listener` with every event committed from now on, in id order. Returns an unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    return this.#log.subscribe(listener);
  }

  // ---------------------------------------------------------------- mutations

  /**
   * Creates a Worker from a profile.
   * @throws RuntimeError `invalid_request`, `invalid_id`, `duplicate_worker`, `capacity_exceeded`,
   *   `unknown_profile`, `unsupported_capability`, `unsupported_operation`, `runtime_unavailable`, `store_unavailable`
   */
  async createWorker(request: CreateWorkerRequest): Promise<WorkerDetail> {
    this.#assertWritable();
    const raw = request as { worker_id?: unknown; metadata?: unknown };
    if (raw && typeof raw === 'object' && raw.worker_id !== undefined) assertValidId(raw.worker_id, 'worker_id');
    assertNoReservedKeys(raw?.metadata);
    const req = parseOrThrow(CreateWorkerRequestSchema, request, 'create request');
    if (req.config_bundle) {
      throw new RuntimeError(
        'unsupported_operation',
        'config bundles are not supported yet; omit config_bundle to use a runtime-local profile',
      );
    }
    const profile = this.#catalog.resolve(req.profile);
    const unknown = (req.requested_capabilities ?? []).filter((cap) => !profile.capabilities.includes(cap.name));
    if (unknown.length > 0) {
      throw new RuntimeError(
        'unsupported_capability',
        `profile "${profile.name}" does not provide: ${unknown.map((cap) => cap.name).join(', ')}`,
        {
          details: { unsupported: unknown.map((cap) => cap.name), available: [...profile.capabilities] },
        },
      );
    }
    return this.#createLock.run(async () => {
      this.#assertWritable();
      const worker_id = req.worker_id ?? generateId(this.#clock.millis());
      if (this.#workers.has(worker_id))
        throw new RuntimeError('duplicate_worker', `worker ${worker_id} already exists`);
      if (this.#workers.size >= this.limits.max_workers) {
        throw new RuntimeError(
          'capacity_exceeded',
          `this runtime already holds its maximum of ${this.limits.max_workers} workers`,
          {
            details: { max_workers: this.limits.max_workers },
          },
        );
      }
      const now = this.#clock.iso();
      // Absent lists share one frozen empty value: idle workers are many, and committed records are never mutated.
      const record: WorkerRecord = {
        worker_id,
        display_name: req.display_name ?? null,
        intent: req.intent,
        profile: req.profile,
        config_bundle: null,
        requested_capabilities: req.requested_capabilities ?? (EMPTY_LIST as never[]),
        workspace_refs: req.workspace_refs ?? (EMPTY_LIST as never[]),
        mount_refs: req.mount_refs ?? (EMPTY_LIST as never[]),
        metadata: req.metadata ?? (EMPTY_RECORD as Record<string, string>),
        created_at: now,
        status: 'idle',
        stopped_event_id: null,
      };
      const state = newWorkerState(this.runtime_id, {
        worker: record,
        transcript_len: 0,
        last_event_id: 0,
        updated_at: now,
        last_run: null,
      });
      const records: StoreRecord[] = [{ type: 'worker', worker: record }];
      const forget = this.#log.introduce(state.ref);
      this.#log.event(records, 'worker_created', `worker ${worker_id} created with profile ${profile.name}`, {
        worker_id,
        data: { profile: profile.name, engine: profile.profile.engine },
      });
      this.#log.diagnostic(
        records,
        'info',
        'worker.tools_less',
        `worker ${worker_id} has no config bundle: it runs with the runtime-local profile "${profile.name}" and no tools (runtime.local_default_resources)`,
        worker_id,
      );
      try {
        await this.#log.commit(records, () => {
          this.#workers.set(worker_id, state);
        });
      } finally {
        forget();
      }
      return toDetail(state, this);
    });
  }

  /**
   * Sends input. A `user` input starts a run (or queues, rejects or interrupts per `on_busy`); a
   * `system` input is appended to the transcript without a run.
   * @throws RuntimeError `invalid_request`, `invalid_id`, `worker_not_found`, `worker_busy`, `queue_full`,
   *   `worker_stopped`, `idempotency_conflict`, `runtime_unavailable`, `store_unavailable`
   */
  async sendInput(worker: WorkerAddress, input: InputRequest): Promise<InputAck> {
    this.#assertWritable();
    const state = this.#worker(worker);
    const req = parseOrThrow(InputRequestSchema, input, 'input');
    const bytes = Buffer.byteLength(req.content, 'utf8');
    if (bytes > this.limits.max_input_bytes) {
      throw new RuntimeError(
        'invalid_request',
        `content is ${bytes} bytes; the limit is ${this.limits.max_input_bytes}`,
        {
          details: { issues: [{ path: 'content', message: `must be at most ${this.limits.max_input_bytes} bytes` }] },
        },
      );
    }
    const on_busy = req.on_busy ?? 'reject';
    const fingerprint = JSON.stringify([req.kind, req.content, on_busy, req.timeout_ms ?? null]);
    let interrupting = false;
    try {
      for (;;) {
        const outcome = await state.lock.run(async (): Promise<InputAck | ActiveRun> => {
          this.#assertWritable();
          if (req.idempotency_key !== undefined) {
            const previous = await this.#store.getIdempotency(state.record.worker_id, req.idempotency_key);
            if (previous) {
              if (previous.fingerprint !== fingerprint) {
                throw new RuntimeError(
                  'idempotency_conflict',
                  'this idempotency_key was already used with a different input',
                  {
                    details: { idempotency_key: req.idempotency_key },
                  },
                );
              }
              return { ...previous.ack, replayed: true };
            }
          }
          if (state.record.status === 'stopped' || state.stopping) {
            throw new RuntimeError('worker_stopped', `worker ${state.record.worker_id} is stopped`);
          }
          if (req.kind === 'system') return acceptSystemInput(this.#acceptance, state, req, fingerprint);
          const waiting = interrupting ? state.interrupts_pending - 1 : state.interrupts_pending;
          const busy = state.active !== null || state.queue.length > 0 || waiting > 0;
          if (!busy || (interrupting && state.active === null)) {
            return acceptAndStart(this.#acceptance, state, req, on_busy, fingerprint);
          }
          if (on_busy === 'reject') {
            throw new RuntimeError(
              'worker_busy',
              `worker ${state.record.worker_id} is busy with run ${state.active?.record.run_id ?? '(queued input)'}`,
              {
                details: { active_run_id: state.active?.record.run_id ?? null },
              },
            );
          }
          if (on_busy === 'enqueue') return acceptAndQueue(this.#acceptance, state, req, fingerprint);
          // interrupt: abort the active run, wait for it outside the lock, then start this input first.
          if (!interrupting) {
            interrupting = true;
            state.interrupts_pending++;
          }
          const active = state.active as ActiveRun;
          this.#executor.abort(state, active, {
            status: 'cancelled',
            error: { code: 'cancelled', message: 'interrupted by a newer input' },
          });
          return active;
        });
        if ('finished' in outcome) {
          await outcome.finished;
          continue;
        }
        return outcome;
      }
    } finally {
      if (interrupting) {
        state.interrupts_pending--;
        void this.#executor.pump(state);
      }
    }
  }

  /**
   * Cancels the active run (its engine sees the abort). Resolves once the engine stopped or after
   * `limits.cancel_grace_ms`; the run ends `cancelled` and the queue continues.
   * @throws RuntimeError `invalid_id`, `worker_not_found`, `invalid_request`, `runtime_unavailable`, `store_unavailable`
   */
  async cancelWorker(worker: WorkerAddress, request: ControlRequest = {}): Promise<ControlAck> {
    this.#assertWritable();
    const state = this.#worker(worker);
    const { reason } = parseOrThrow(ControlRequestSchema, request ?? {}, 'cancel request');
    const active = await state.lock.run(async () => {
      const run = state.active;
      if (run && state.record.status !== 'stopped') {
        this.#executor.abort(state, run, {
          status: 'cancelled',
          error: { code: 'cancelled', message: reason ?? 'cancelled by request' },
        });
      }
      return run;
    });
    if (!active)
      return {
        worker_ref: this.#log.ref(state.record.worker_id),
        status: workerStatus(state),
        run_id: null,
        event_id: null,
      };
    await active.finished;
    return {
      worker_ref: this.#log.ref(state.record.worker_id),
      status: workerStatus(state),
      run_id: active.record.run_id,
      event_id: active.end_event_id,
    };
  }

  /**
   * Stops a Worker for good: cancels the active run and queued inputs, then marks it `stopped`.
   * Stopping a stopped Worker answers the original `event_id` and changes nothing.
   * @throws RuntimeError `invalid_id`, `worker_not_found`, `invalid_request`, `runtime_unavailable`, `store_unavailable`
   */
  async stopWorker(worker: WorkerAddress, request: ControlRequest = {}): Promise<ControlAck> {
    this.#assertWritable();
    const state = this.#worker(worker);
    const { reason } = parseOrThrow(ControlRequestSchema, request ?? {}, 'stop request');
    const message = reason ?? 'worker stopped';
    const active = await state.lock.run(async () => {
      if (state.record.status === 'stopped') return null;
      state.stopping = true;
      if (state.active)
        this.#executor.abort(state, state.active, { status: 'cancelled', error: { code: 'cancelled', message } });
      return state.active;
    });
    if (active) await active.finished;
    return state.lock.run(async () => {
      const ref = this.#log.ref(state.record.worker_id);
      if (state.record.status === 'stopped') {
        return { worker_ref: ref, status: 'stopped' as const, run_id: null, event_id: state.record.stopped_event_id };
      }
      this.#assertWritable();
      const records: StoreRecord[] = [];
      const now = this.#clock.iso();
      const cancelled = state.queue.map((queued) => ({
        ...queued.record,
        status: 'cancelled' as const,
        ended_at: now,
        error: { code: 'cancelled', message },
      }));
      for (const run of cancelled) {
        records.push({ type: 'run', run: { worker_id: state.record.worker_id, run, input: null } });
        this.#log.event(records, 'run_cancelled', `queued run ${run.run_id} cancelled: ${message}`, {
          worker_id: state.record.worker_id,
          run_id: run.run_id,
        });
      }
      const event_id = this.#log.nextEventId;
      const record: WorkerRecord = { ...state.record, status: 'stopped', stopped_event_id: event_id };
      records.push({ type: 'worker', worker: record });
      this.#log.event(records, 'worker_stopped', `worker ${state.record.worker_id} stopped: ${message}`, {
        worker_id: state.record.worker_id,
        data: { reason: message },
      });
      try {
        await this.#log.commit(records, () => {
          state.record = record;
          state.queue = [];
          const last = cancelled[cancelled.length - 1];
          if (last) state.last_run = last;
        });
      } catch (error) {
        state.stopping = false;
        throw error;
      }
      void this.#releaseWorker(state);
      return { worker_ref: ref, status: 'stopped' as const, run_id: active?.record.run_id ?? null, event_id };
    });
  }

  /**
   * Closes the Runtime: refuses new mutations (`runtime_unavailable`), interrupts active runs (queued
   * ones stay queued for the next open), answers long-polls, and releases the store. Idempotent.
   */
  async close(options: { grace_ms?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(Math.min(Math.max(0, options.grace_ms ?? this.limits.cancel_grace_ms), MAX_TIMER_MS));
    return this.#closing;
  }

  async #close(grace_ms: number): Promise<void> {
    this.#status = 'closing';
    const records: StoreRecord[] = [];
    this.#log.event(records, 'runtime_stopping', `runtime ${this.runtime_id} is stopping`);
    await this.#log.commit(records, () => undefined).catch(() => undefined);
    const finishing: Promise<void>[] = [];
    for (const state of this.#workers.values()) {
      const active = state.active;
      if (!active) continue;
      this.#executor.abort(
        state,
        active,
        {
          status: 'interrupted',
          error: { code: 'interrupted', message: 'the runtime shut down while the run was active' },
        },
        grace_ms,
      );
      finishing.push(active.finished);
    }
    // Each run settles by its grace period at the latest, even if its engine ignores the abort.
    await Promise.all(finishing);
    await this.#log.drained();
    // Engines release what they hold (tool servers…) once no run uses them; a failure is theirs.
    await Promise.all([...new Set(this.#engines)].map((engine) => engine.close?.().catch(() => undefined)));
    this.#log.changes.close();
    this.#status = 'closed';
    await this.#store.close();
  }

  /** `running`, `closing` or `closed`. */
  get status(): RuntimeStatus {
    return this.#status;
  }

  /**
   * The store failure that stopped all mutations (`store_unavailable`), or null while the store
   * writes. Reads keep working; reopening the Runtime is the way back.
   */
  get storeFailure(): RuntimeError | null {
    return this.#log.failure;
  }

  // ---------------------------------------------------------------- internals

  async #findRun(state: WorkerState, run_id: string): Promise<RunRecord | null> {
    if (state.active?.record.run_id === run_id) return { ...state.active.record };
    const queued = state.queue.find((q) => q.record.run_id === run_id);
    if (queued) return { ...queued.record };
    if (state.last_run?.run_id === run_id) return { ...state.last_run };
    return this.#store.getRun(state.record.worker_id, run_id);
  }

  /** The store's view of a run, replaced by the live one when it is active. */
  #liveRun(state: WorkerState, run: RunRecord): RunRecord {
    return state.active?.record.run_id === run.run_id ? { ...state.active.record } : run;
  }

  #assertWritable(): void {
    if (this.#status !== 'running') throw new RuntimeError('runtime_unavailable', 'the runtime is shutting down');
    if (this.#log.failure) throw this.#log.failure;
  }

  #worker(address: WorkerAddress): WorkerState {
    let worker_id: unknown = address;
    if (typeof address === 'object' && address !== null) {
      assertValidId(address.runtime_id, 'runtime_id');
      if (address.runtime_id !== this.runtime_id) {
        assertValidId(address.worker_id, 'worker_id');
        throw new RuntimeError(
          'worker_not_found',
          `worker ${address.worker_id} does not belong to runtime ${this.runtime_id}`,
        );
      }
      worker_id = address.worker_id;
    }
    const id = assertValidId(worker_id, 'worker_id');
    const state = this.#workers.get(id);
    if (!state) throw new RuntimeError('worker_not_found', `worker ${id} does not exist`);
    return state;
  }

  /** Lets the worker's engine release what it holds for it; a failure becomes a warning diagnostic. */
  async #releaseWorker(state: WorkerState): Promise<void> {
    let engine: WorkerEngine;
    try {
      engine = this.#catalog.resolve(state.record.profile).engine;
    } catch {
      return;
    }
    if (!engine.releaseWorker) return;
    try {
      await engine.releaseWorker({ ...state.ref });
    } catch (error) {
      if (this.#status !== 'running' || this.#log.failure) return;
      const records: StoreRecord[] = [];
      const reason = error instanceof Error && !isRuntimeError(error) ? error.name : 'it failed';
      this.#log.diagnostic(
        records,
        'warning',
        'engine.release_failed',
        `engine "${engine.name}" could not release worker ${state.record.worker_id}: ${isRuntimeError(error) ? error.message : reason}`,
        state.record.worker_id,
      );
      await this.#log.commit(records).catch(() => undefined);
    }
  }

  /** Records a diagnostic the store raised after opening; best effort (never while closing). */
  #recordLateDiagnostic(diagnostic: Diagnostic): void {
    if (this.#status !== 'running' || this.#log.failure) return;
    const records: StoreRecord[] = [];
    this.#log.recordDiagnostic(records, diagnostic);
    this.#log.commit(records).catch(() => undefined);
  }

  // ---------------------------------------------------------------- internals: recovery

  async #recover(snapshot: StoreSnapshot): Promise<void> {
    const plan = planRecovery({
      snapshot,
      workers: this.#workers,
      log: this.#log,
      runtime_id: this.runtime_id,
      now: this.#clock.iso(),
    });
    this.#log.event(plan.records, 'runtime_started', `runtime ${this.runtime_id} started`, {
      data: { version: VERSION, store: this.#store.kind },
    });
    await this.#log.commit(plan.records, plan.apply);
    for (const state of plan.resume) void this.#executor.pump(state);
  }
}
