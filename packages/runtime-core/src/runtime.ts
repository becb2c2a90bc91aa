import * as v from 'valibot';
import type { EngineRun, WorkerEngine } from './engine.js';
import { isRuntimeError, RuntimeError } from './errors.js';
import { assertValidId, generateId, isValidId } from './identity.js';
import { pageLimit, resolveLimits } from './limits.js';
import { MemoryStore } from './memory-store.js';
import { Mutex } from './mutex.js';
import { Notifier } from './notifier.js';
import { ProfileCatalog, type ResolvedProfile } from './profiles.js';
import type { WorkerRef } from './schemas/common.js';
import { DisplayNameSchema } from './schemas/common.js';
import { type EventBatch, type EventKind, EventQuerySchema, type RuntimeEvent } from './schemas/event.js';
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
import type {
  Diagnostic,
  Limits,
  RuntimeCapabilities,
  RuntimeStatus,
  RuntimeSummary,
  Severity,
} from './schemas/runtime.js';
import {
  type TranscriptEntry,
  type TranscriptPage,
  type TranscriptQuery,
  TranscriptQuerySchema,
  TranscriptRoleSchema,
} from './schemas/transcript.js';
import {
  type CreateWorkerRequest,
  CreateWorkerRequestSchema,
  type ListWorkersQuery,
  ListWorkersQuerySchema,
  type WorkerDetail,
  type WorkerPage,
} from './schemas/worker.js';
import type { RuntimeStore, StoreRecord, StoreSnapshot, WorkerRecord } from './store.js';
import { parseOrThrow } from './validation.js';
import { VERSION } from './version.js';
import {
  type AbortOutcome,
  type ActiveRun,
  type QueuedRun,
  toDetail,
  toSummary,
  type WorkerState,
  workerStatus,
} from './worker-state.js';

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

/** Listener for committed events, in id order. */
export type EventListener = (event: RuntimeEvent) => void;

type Effect = () => void;

const DEFAULT_PAGE = 100;
const EMPTY_LIST: readonly never[] = Object.freeze([]);
const EMPTY_RECORD: Readonly<Record<string, never>> = Object.freeze({});

function encodeCursor(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const value = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isValidId(value)) throw new RuntimeError('invalid_request', 'cursor is not valid');
  return value;
}

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
  readonly #now: () => number;
  readonly #workers = new Map<string, WorkerState>();
  readonly #createLock = new Mutex();
  /** Refs of workers being created, so their creation events share the worker's ref object. */
  readonly #pendingRefs = new Map<string, WorkerRef>();
  readonly #changes = new Notifier();
  readonly #listeners = new Set<EventListener>();
  #diagnostics: Diagnostic[] = [];
  #status: RuntimeStatus = 'running';
  #startedAt: string;
  /** Next event id to hand out; ids are allocated before commit, in commit-call order. */
  #nextEventId: number;
  /** The highest event id whose batch has been committed and applied. */
  #lastEventId: number;
  #commitTail: Promise<void> = Promise.resolve();
  #storeFailure: RuntimeError | null = null;
  #closing: Promise<void> | null = null;

  private constructor(
    store: RuntimeStore,
    catalog: ProfileCatalog,
    limits: Limits,
    snapshot: StoreSnapshot,
    now: () => number,
  ) {
    this.#store = store;
    this.#catalog = catalog;
    this.limits = Object.freeze({ ...limits });
    this.#now = now;
    this.runtime_id = snapshot.runtime.runtime_id;
    this.display_name = snapshot.runtime.display_name;
    this.#nextEventId = snapshot.last_event_id + 1;
    this.#lastEventId = snapshot.last_event_id;
    this.#startedAt = this.#timestamp();
    this.#diagnostics = snapshot.diagnostics.slice(-limits.max_diagnostics);
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
    const now = options.clock ?? Date.now;
    const snapshot = await store.open({
      ...(options.runtime_id !== undefined ? { runtime_id: options.runtime_id } : {}),
      ...(options.display_name !== undefined ? { display_name: options.display_name } : {}),
      generate_id: () => generateId(),
      now: new Date(now()).toISOString(),
      max_diagnostics: limits.max_diagnostics,
      max_retained_events: limits.max_retained_events,
    });
    const runtime = new Runtime(store, catalog, limits, snapshot, now);
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
      last_event_id: this.#lastEventId,
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
    return structuredClone(this.#diagnostics);
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
      if (TERMINAL_RUN_STATUSES.includes(run.status) || remaining <= 0 || this.#changes.closed) return run;
      await this.#changes.wait(remaining);
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
      worker_ref: this.#ref(state.record.worker_id),
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
    const after = q.after ?? 0;
    if (after > this.#lastEventId) {
      throw new RuntimeError(
        'invalid_request',
        `cursor ${after} is ahead of the event log (last event ${this.#lastEventId})`,
        {
          details: { last_event_id: this.#lastEventId },
        },
      );
    }
    const deadline = Date.now() + Math.min(q.wait_ms ?? 0, this.limits.max_wait_ms);
    for (;;) {
      const watermark = this.#lastEventId;
      const fetched = (
        await this.#store.readEvents({
          after,
          limit: limit + 1,
          ...(q.worker_id !== undefined ? { worker_id: q.worker_id } : {}),
        })
      ).filter((event) => event.id <= watermark);
      const items = fetched.slice(0, limit);
      const remaining = deadline - Date.now();
      if (items.length > 0 || remaining <= 0 || this.#changes.closed) {
        const last = items[items.length - 1];
        return {
          runtime_id: this.runtime_id,
          items,
          next_after: last ? last.id : after,
          has_more: fetched.length > limit,
        };
      }
      await this.#changes.wait(remaining);
    }
  }

  /** Calls `listener` with every event committed from now on, in id order. Returns an unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  // ---------------------------------------------------------------- mutations

  /**
   * Creates a Worker from a profile.
   * @throws RuntimeError `invalid_request`, `invalid_id`, `duplicate_worker`, `capacity_exceeded`,
   *   `unknown_profile`, `unsupported_capability`, `unsupported_operation`, `runtime_unavailable`, `store_unavailable`
   */
  async createWorker(request: CreateWorkerRequest): Promise<WorkerDetail> {
    this.#assertWritable();
    const raw = request as { worker_id?: unknown };
    if (raw && typeof raw === 'object' && raw.worker_id !== undefined) assertValidId(raw.worker_id, 'worker_id');
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
      const worker_id = req.worker_id ?? generateId(this.#now());
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
      const now = this.#timestamp();
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
      const state: WorkerState = {
        ref: { runtime_id: this.runtime_id, worker_id },
        record,
        transcript_len: 0,
        last_event_id: 0,
        updated_at: now,
        active: null,
        queue: [],
        last_run: null,
        lock: new Mutex(),
        interrupts_pending: 0,
        stopping: false,
      };
      const records: StoreRecord[] = [{ type: 'worker', worker: record }];
      this.#pendingRefs.set(worker_id, state.ref);
      this.#event(records, 'worker_created', `worker ${worker_id} created with profile ${profile.name}`, {
        worker_id,
        data: { profile: profile.name, engine: profile.profile.engine },
      });
      this.#diagnostic(
        records,
        'info',
        'worker.tools_less',
        `worker ${worker_id} has no config bundle: it runs with the runtime-local profile "${profile.name}" and no tools (runtime.local_default_resources)`,
        worker_id,
      );
      try {
        await this.#commit(records, () => {
          this.#workers.set(worker_id, state);
        });
      } finally {
        this.#pendingRefs.delete(worker_id);
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
          if (req.kind === 'system')
            return this.#acceptSystemInput(state, req.content, req.idempotency_key, fingerprint);
          const waiting = interrupting ? state.interrupts_pending - 1 : state.interrupts_pending;
          const busy = state.active !== null || state.queue.length > 0 || waiting > 0;
          if (!busy || (interrupting && state.active === null)) {
            return this.#acceptAndStart(state, req, on_busy, fingerprint);
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
          if (on_busy === 'enqueue') return this.#acceptAndQueue(state, req, fingerprint);
          // interrupt: abort the active run, wait for it outside the lock, then start this input first.
          if (!interrupting) {
            interrupting = true;
            state.interrupts_pending++;
          }
          const active = state.active as ActiveRun;
          this.#abortRun(state, active, {
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
        this.#pump(state);
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
        this.#abortRun(state, run, {
          status: 'cancelled',
          error: { code: 'cancelled', message: reason ?? 'cancelled by request' },
        });
      }
      return run;
    });
    if (!active)
      return {
        worker_ref: this.#ref(state.record.worker_id),
        status: workerStatus(state),
        run_id: null,
        event_id: null,
      };
    await active.finished;
    return {
      worker_ref: this.#ref(state.record.worker_id),
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
        this.#abortRun(state, state.active, { status: 'cancelled', error: { code: 'cancelled', message } });
      return state.active;
    });
    if (active) await active.finished;
    return state.lock.run(async () => {
      const ref = this.#ref(state.record.worker_id);
      if (state.record.status === 'stopped') {
        return { worker_ref: ref, status: 'stopped' as const, run_id: null, event_id: state.record.stopped_event_id };
      }
      this.#assertWritable();
      const records: StoreRecord[] = [];
      const now = this.#timestamp();
      const cancelled = state.queue.map((queued) => ({
        ...queued.record,
        status: 'cancelled' as const,
        ended_at: now,
        error: { code: 'cancelled', message },
      }));
      for (const run of cancelled) {
        records.push({ type: 'run', run: { worker_id: state.record.worker_id, run, input: null } });
        this.#event(records, 'run_cancelled', `queued run ${run.run_id} cancelled: ${message}`, {
          worker_id: state.record.worker_id,
          run_id: run.run_id,
        });
      }
      const event_id = this.#peekEventId();
      const record: WorkerRecord = { ...state.record, status: 'stopped', stopped_event_id: event_id };
      records.push({ type: 'worker', worker: record });
      this.#event(records, 'worker_stopped', `worker ${state.record.worker_id} stopped: ${message}`, {
        worker_id: state.record.worker_id,
        data: { reason: message },
      });
      try {
        await this.#commit(records, () => {
          state.record = record;
          state.queue = [];
          const last = cancelled[cancelled.length - 1];
          if (last) state.last_run = last;
        });
      } catch (error) {
        state.stopping = false;
        throw error;
      }
      return { worker_ref: ref, status: 'stopped' as const, run_id: active?.record.run_id ?? null, event_id };
    });
  }

  /**
   * Closes the Runtime: refuses new mutations (`runtime_unavailable`), interrupts active runs (queued
   * ones stay queued for the next open), answers long-polls, and releases the store. Idempotent.
   */
  async close(options: { grace_ms?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.grace_ms ?? this.limits.cancel_grace_ms);
    return this.#closing;
  }

  async #close(grace_ms: number): Promise<void> {
    this.#status = 'closing';
    const records: StoreRecord[] = [];
    this.#event(records, 'runtime_stopping', `runtime ${this.runtime_id} is stopping`);
    await this.#commit(records, () => undefined).catch(() => undefined);
    const finishing: Promise<void>[] = [];
    for (const state of this.#workers.values()) {
      const active = state.active;
      if (!active) continue;
      this.#abortRun(
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
    await this.#commitTail;
    this.#changes.close();
    this.#status = 'closed';
    await this.#store.close();
  }

  /** `running`, `closing` or `closed`. */
  get status(): RuntimeStatus {
    return this.#status;
  }

  // ---------------------------------------------------------------- internals: inputs and runs

  async #acceptSystemInput(
    state: WorkerState,
    content: string,
    key: string | undefined,
    fingerprint: string,
  ): Promise<InputAck> {
    const worker_id = state.record.worker_id;
    const records: StoreRecord[] = [];
    const event_id = this.#event(records, 'worker_input_accepted', `system input accepted by worker ${worker_id}`, {
      worker_id,
      data: { input_kind: 'system', idempotency_key: key ?? null },
    });
    const sequence = this.#appendEntry(records, state, 'system', content, null);
    const ack: InputAck = {
      worker_ref: this.#ref(worker_id),
      status: workerStatus(state),
      run_id: null,
      run_status: null,
      transcript_sequence: sequence,
      queue_position: null,
      event_id,
      replayed: false,
    };
    if (key !== undefined) records.push({ type: 'idempotency', record: { worker_id, key, fingerprint, ack } });
    await this.#commit(records, () => {
      state.transcript_len = sequence;
    });
    return ack;
  }

  async #acceptAndQueue(
    state: WorkerState,
    req: v.InferOutput<typeof InputRequestSchema>,
    fingerprint: string,
  ): Promise<InputAck> {
    const worker_id = state.record.worker_id;
    if (state.queue.length >= this.limits.max_queued_inputs) {
      throw new RuntimeError('queue_full', `worker ${worker_id} already has ${state.queue.length} queued inputs`, {
        details: { max_queued_inputs: this.limits.max_queued_inputs },
      });
    }
    const run = this.#newRun(req.idempotency_key);
    const records: StoreRecord[] = [];
    const event_id = this.#event(records, 'worker_input_accepted', `input accepted by worker ${worker_id} and queued`, {
      worker_id,
      run_id: run.run_id,
      data: { input_kind: 'user', on_busy: 'enqueue', idempotency_key: req.idempotency_key ?? null },
    });
    const input = { content: req.content, timeout_ms: req.timeout_ms ?? null };
    records.push({ type: 'run', run: { worker_id, run, input } });
    const queue_position = state.queue.length + 1;
    this.#event(records, 'run_queued', `run ${run.run_id} queued at position ${queue_position}`, {
      worker_id,
      run_id: run.run_id,
      data: { queue_position },
    });
    const ack: InputAck = {
      worker_ref: this.#ref(worker_id),
      status: workerStatus(state),
      run_id: run.run_id,
      run_status: 'queued',
      transcript_sequence: null,
      queue_position,
      event_id,
      replayed: false,
    };
    if (req.idempotency_key !== undefined) {
      records.push({ type: 'idempotency', record: { worker_id, key: req.idempotency_key, fingerprint, ack } });
    }
    await this.#commit(records, () => {
      state.queue.push({ record: run, input });
    });
    return ack;
  }

  async #acceptAndStart(
    state: WorkerState,
    req: v.InferOutput<typeof InputRequestSchema>,
    on_busy: string,
    fingerprint: string,
  ): Promise<InputAck> {
    const worker_id = state.record.worker_id;
    const queued = this.#newRun(req.idempotency_key);
    const records: StoreRecord[] = [];
    const event_id = this.#event(records, 'worker_input_accepted', `input accepted by worker ${worker_id}`, {
      worker_id,
      run_id: queued.run_id,
      data: { input_kind: 'user', on_busy, idempotency_key: req.idempotency_key ?? null },
    });
    const pending = { record: queued, input: { content: req.content, timeout_ms: req.timeout_ms ?? null } };
    const active = this.#startRecords(records, state, pending);
    const ack: InputAck = {
      worker_ref: this.#ref(worker_id),
      status: 'running',
      run_id: active.record.run_id,
      run_status: 'running',
      transcript_sequence: active.record.input_sequence,
      queue_position: null,
      event_id,
      replayed: false,
    };
    if (req.idempotency_key !== undefined) {
      records.push({ type: 'idempotency', record: { worker_id, key: req.idempotency_key, fingerprint, ack } });
    }
    await this.#commit(records, () => this.#activate(state, active));
    this.#launch(state, active, pending.input.content, pending.input.timeout_ms);
    return ack;
  }

  #newRun(idempotency_key: string | undefined): RunRecord {
    return {
      run_id: generateId(this.#now()),
      status: 'queued',
      input_sequence: null,
      queued_at: this.#timestamp(),
      started_at: null,
      ended_at: null,
      error: null,
      idempotency_key: idempotency_key ?? null,
      output_entries: 0,
    };
  }

  /** Adds the records that start `pending` (running run, user entry, events) and returns its live state. */
  #startRecords(records: StoreRecord[], state: WorkerState, pending: QueuedRun): ActiveRun {
    const worker_id = state.record.worker_id;
    const sequence = state.transcript_len + 1;
    const record: RunRecord = {
      ...pending.record,
      status: 'running',
      input_sequence: sequence,
      started_at: this.#timestamp(),
    };
    this.#event(records, 'run_started', `run ${record.run_id} started`, { worker_id, run_id: record.run_id });
    records.push({ type: 'run', run: { worker_id, run: record, input: null } });
    this.#appendEntry(records, state, 'user', pending.input.content, record.run_id);
    let resolveFinished: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      resolveFinished = resolve;
    });
    return {
      record,
      controller: new AbortController(),
      outcome: null,
      fenced: false,
      finalized: false,
      end_event_id: null,
      finished,
      resolveFinished,
      timers: new Set(),
      idle_timeout_ms: null,
      idle_timer: null,
    };
  }

  #activate(state: WorkerState, active: ActiveRun): void {
    state.active = active;
    state.transcript_len = active.record.input_sequence ?? state.transcript_len;
  }

  /** Runs the engine in the background; the run is finalized whatever happens. */
  #launch(state: WorkerState, active: ActiveRun, content: string, timeout_ms: number | null): void {
    void this.#execute(state, active, content, timeout_ms);
  }

  async #execute(state: WorkerState, active: ActiveRun, content: string, timeout_ms: number | null): Promise<void> {
    let resolved: ResolvedProfile;
    try {
      resolved = this.#catalog.resolve(state.record.profile);
    } catch (error) {
      await this.#finishRun(state, active, {
        status: 'failed',
        error: { code: 'unknown_profile', message: (error as Error).message },
      });
      return;
    }
    const runTimeout = [resolved.profile.run_timeout_ms, timeout_ms ?? undefined].filter(
      (ms): ms is number => typeof ms === 'number',
    );
    if (runTimeout.length > 0) {
      const ms = Math.min(...runTimeout);
      active.timers.add(
        setTimeout(
          () =>
            this.#abortRun(state, active, {
              status: 'timed_out',
              error: { code: 'timed_out', message: `the run exceeded its ${ms} ms timeout` },
            }),
          ms,
        ),
      );
    }
    active.idle_timeout_ms = resolved.profile.idle_timeout_ms ?? null;
    this.#armIdleTimer(state, active);
    const engineRun = this.#engineRun(state, active, resolved, content);
    let outcome: { status: 'completed' | 'failed'; error: { code: string; message: string } | null };
    try {
      await resolved.engine.run(engineRun);
      outcome = { status: 'completed', error: null };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      outcome = {
        status: 'failed',
        error: { code: isRuntimeError(error) ? error.code : 'engine_error', message: message || 'the engine failed' },
      };
    }
    await this.#finishRun(state, active, outcome);
  }

  #engineRun(state: WorkerState, active: ActiveRun, resolved: ResolvedProfile, content: string): EngineRun {
    const worker_id = state.record.worker_id;
    const ref = this.#ref(worker_id);
    return {
      worker: {
        ref,
        profile: resolved.profile,
        profile_name: resolved.name,
        intent: state.record.intent,
        display_name: state.record.display_name,
        display_ref: toSummary(state, this).display_ref,
      },
      run_id: active.record.run_id,
      input: content,
      signal: active.controller.signal,
      history: async (limit: number): Promise<TranscriptEntry[]> => {
        const count = Math.max(0, Math.min(Math.floor(limit), state.transcript_len));
        return count === 0 ? [] : this.#store.readTranscript(worker_id, state.transcript_len - count, count);
      },
      append: async (entry): Promise<void> => {
        const role = v.parse(TranscriptRoleSchema, entry.role);
        if (typeof entry.content !== 'string') throw new TypeError('transcript content must be a string');
        if (active.fenced) return;
        await state.lock.run(async () => {
          if (active.fenced || active.finalized) return;
          const records: StoreRecord[] = [];
          const sequence = this.#appendEntry(records, state, role, entry.content, active.record.run_id);
          const record = { ...active.record, output_entries: active.record.output_entries + 1 };
          records.push({ type: 'run', run: { worker_id, run: record, input: null } });
          await this.#commit(records, () => {
            state.transcript_len = sequence;
            active.record = record;
          });
          this.#armIdleTimer(state, active);
        });
      },
    };
  }

  #armIdleTimer(state: WorkerState, active: ActiveRun): void {
    if (active.idle_timeout_ms === null || active.fenced) return;
    const ms = active.idle_timeout_ms;
    if (active.idle_timer) {
      clearTimeout(active.idle_timer);
      active.timers.delete(active.idle_timer);
    }
    active.idle_timer = setTimeout(
      () =>
        this.#abortRun(state, active, {
          status: 'timed_out',
          error: { code: 'idle_timeout', message: `the run produced no output for ${ms} ms` },
        }),
      ms,
    );
    active.timers.add(active.idle_timer);
  }

  /** Aborts a run: fences its output now, signals the engine, and finalizes after the grace period at the latest. */
  #abortRun(
    state: WorkerState,
    active: ActiveRun,
    outcome: AbortOutcome,
    grace_ms = this.limits.cancel_grace_ms,
  ): void {
    if (active.finalized || active.outcome) return;
    active.outcome = outcome;
    active.fenced = true;
    active.controller.abort(new RuntimeError('runtime_unavailable', outcome.error.message));
    const timer = setTimeout(() => void this.#finishRun(state, active, outcome), grace_ms);
    active.timers.add(timer);
  }

  /** Commits a run's terminal state (once), frees the worker and starts what is queued. */
  async #finishRun(
    state: WorkerState,
    active: ActiveRun,
    proposed: { status: RunRecord['status']; error: RunRecord['error'] },
  ): Promise<void> {
    if (active.finalized) return;
    await state.lock.run(async () => {
      if (active.finalized) return;
      active.finalized = true;
      active.fenced = true;
      for (const timer of active.timers) clearTimeout(timer);
      active.timers.clear();
      const outcome = active.outcome ?? proposed;
      const record: RunRecord = {
        ...active.record,
        status: outcome.status,
        error: outcome.error,
        ended_at: this.#timestamp(),
      };
      const worker_id = state.record.worker_id;
      const records: StoreRecord[] = [{ type: 'run', run: { worker_id, run: record, input: null } }];
      const kind = `run_${record.status}` as EventKind;
      const end_event_id = this.#event(
        records,
        kind,
        `run ${record.run_id} ${record.status.replace('_', ' ')}${record.error ? `: ${record.error.message}` : ''}`,
        {
          worker_id,
          run_id: record.run_id,
          ...(record.error ? { data: { error: record.error } } : {}),
        },
      );
      try {
        await this.#commit(records, () => {
          active.record = record;
          active.end_event_id = end_event_id;
          state.active = null;
          state.last_run = record;
        });
      } catch {
        // The store failed: memory keeps what disk has (the run stays `running`); reopening recovers it
        // as `interrupted`. Waiters are released all the same.
      }
    });
    active.resolveFinished();
    this.#pump(state);
  }

  /** Starts the next queued input when the worker is free. */
  #pump(state: WorkerState): void {
    if (this.#status !== 'running' || this.#storeFailure) return;
    void state.lock
      .run(async () => {
        if (state.active || state.queue.length === 0 || state.interrupts_pending > 0) return;
        if (state.record.status === 'stopped' || state.stopping || this.#status !== 'running') return;
        const next = state.queue[0] as QueuedRun;
        const records: StoreRecord[] = [];
        const active = this.#startRecords(records, state, next);
        await this.#commit(records, () => {
          state.queue.shift();
          this.#activate(state, active);
        });
        this.#launch(state, active, next.input.content, next.input.timeout_ms);
      })
      .catch(() => undefined);
  }

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

  // ---------------------------------------------------------------- internals: records and commits

  #lastMillis = Number.NaN;
  #lastStamp = '';

  /** The clock as ISO-8601; one string per millisecond, shared by the records written in it. */
  #timestamp(): string {
    const millis = this.#now();
    if (millis !== this.#lastMillis) {
      this.#lastMillis = millis;
      this.#lastStamp = new Date(millis).toISOString();
    }
    return this.#lastStamp;
  }

  /** A worker's ref; the one object is shared by its events and entries (they are never mutated). */
  #ref(worker_id: string): WorkerRef {
    return this.#workers.get(worker_id)?.ref ?? this.#pendingRefs.get(worker_id) ?? { runtime_id: this.runtime_id, worker_id };
  }

  #peekEventId(): number {
    return this.#nextEventId;
  }

  /** Adds an event to a batch; returns its id. */
  #event(
    records: StoreRecord[],
    kind: EventKind,
    message: string,
    at: { worker_id?: string; run_id?: string; data?: Record<string, unknown> } = {},
  ): number {
    const event: RuntimeEvent = {
      id: this.#nextEventId++,
      kind,
      ...(at.worker_id !== undefined ? { worker_ref: this.#ref(at.worker_id) } : {}),
      ...(at.run_id !== undefined ? { run_id: at.run_id } : {}),
      message,
      created_at: this.#timestamp(),
      ...(at.data !== undefined ? { data: at.data } : {}),
    };
    records.push({ type: 'event', event });
    return event.id;
  }

  /** Adds a transcript entry and its event to a batch; returns the entry's sequence. */
  #appendEntry(
    records: StoreRecord[],
    state: WorkerState,
    role: TranscriptEntry['role'],
    content: string,
    run_id: string | null,
  ): number {
    const worker_id = state.record.worker_id;
    const pendingEntries = records.filter((r) => r.type === 'transcript').length;
    const sequence = state.transcript_len + pendingEntries + 1;
    const event_id = this.#event(records, 'transcript_appended', `${role} entry ${sequence} appended`, {
      worker_id,
      ...(run_id !== null ? { run_id } : {}),
      data: { sequence, role },
    });
    records.push({
      type: 'transcript',
      entry: {
        sequence,
        worker_ref: this.#ref(worker_id),
        role,
        content,
        run_id,
        event_id,
        created_at: this.#timestamp(),
      },
    });
    return sequence;
  }

  #diagnostic(records: StoreRecord[], severity: Severity, code: string, message: string, worker_id?: string): void {
    const diagnostic: Diagnostic = {
      id: generateId(this.#now()),
      severity,
      code,
      message,
      ...(worker_id !== undefined ? { worker_ref: this.#ref(worker_id) } : {}),
      created_at: this.#timestamp(),
    };
    this.#recordDiagnostic(records, diagnostic);
  }

  #recordDiagnostic(records: StoreRecord[], diagnostic: Diagnostic): void {
    records.push({ type: 'diagnostic', diagnostic });
    // The message stays in the diagnostic; the event names it (events are many, and kept).
    this.#event(records, 'diagnostic_recorded', `${diagnostic.severity} diagnostic ${diagnostic.code}`, {
      ...(diagnostic.worker_ref ? { worker_id: diagnostic.worker_ref.worker_id } : {}),
      data: { diagnostic_id: diagnostic.id, severity: diagnostic.severity, code: diagnostic.code },
    });
  }

  /**
   * Commits a batch, then applies `effect` to memory and publishes its events, strictly in call
   * order (so event ids become visible densely). A failed commit makes the store unavailable for
   * every later mutation until the Runtime is reopened.
   */
  #commit(records: StoreRecord[], effect: Effect): Promise<void> {
    if (this.#storeFailure) return Promise.reject(this.#storeFailure);
    const written = this.#store.commit(records);
    const applied = this.#commitTail
      .then(
        () => written,
        () => written,
      )
      .then(
        () => {
          effect();
          this.#publish(records);
        },
        (error: unknown) => {
          this.#storeFailure ??=
            isRuntimeError(error) && error.code === 'store_unavailable'
              ? error
              : new RuntimeError(
                  'store_unavailable',
                  'the store could not write; the runtime accepts no changes until it is reopened',
                  { cause: error },
                );
          throw this.#storeFailure;
        },
      );
    this.#commitTail = applied.catch(() => undefined);
    return applied;
  }

  #publish(records: readonly StoreRecord[]): void {
    for (const record of records) {
      if (record.type === 'diagnostic') {
        this.#diagnostics.push(record.diagnostic);
        if (this.#diagnostics.length > this.limits.max_diagnostics) this.#diagnostics.shift();
      }
      if (record.type !== 'event') continue;
      const { event } = record;
      this.#lastEventId = event.id;
      if (event.worker_ref) {
        const state = this.#workers.get(event.worker_ref.worker_id);
        if (state) {
          state.last_event_id = event.id;
          state.updated_at = event.created_at;
        }
      }
      for (const listener of this.#listeners) {
        try {
          listener(structuredClone(event));
        } catch {
          // A listener's failure is its own; the Runtime goes on.
        }
      }
    }
    this.#changes.notify();
  }

  #assertWritable(): void {
    if (this.#status !== 'running') throw new RuntimeError('runtime_unavailable', 'the runtime is shutting down');
    if (this.#storeFailure) throw this.#storeFailure;
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

  // ---------------------------------------------------------------- internals: recovery

  async #recover(snapshot: StoreSnapshot): Promise<void> {
    const records: StoreRecord[] = [];
    const now = this.#timestamp();
    const resume: WorkerState[] = [];
    const effects: Effect[] = [];
    for (const stored of snapshot.workers) {
      const state: WorkerState = {
        ref: { runtime_id: this.runtime_id, worker_id: stored.worker.worker_id },
        record: stored.worker,
        transcript_len: stored.transcript_len,
        last_event_id: stored.last_event_id,
        updated_at: stored.updated_at,
        active: null,
        queue: [],
        last_run: stored.last_run,
        lock: new Mutex(),
        interrupts_pending: 0,
        stopping: false,
      };
      this.#workers.set(stored.worker.worker_id, state);
      for (const unfinished of stored.unfinished_runs) {
        if (unfinished.run.status === 'queued' && unfinished.input && stored.worker.status !== 'stopped') {
          state.queue.push({ record: unfinished.run, input: unfinished.input });
          continue;
        }
        const interrupted: RunRecord = {
          ...unfinished.run,
          status: 'interrupted',
          ended_at: now,
          error: { code: 'interrupted', message: 'the runtime stopped while the run was active' },
        };
        records.push({ type: 'run', run: { worker_id: stored.worker.worker_id, run: interrupted, input: null } });
        this.#event(
          records,
          'run_interrupted',
          `run ${interrupted.run_id} interrupted: the runtime stopped while it was active`,
          {
            worker_id: stored.worker.worker_id,
            run_id: interrupted.run_id,
          },
        );
        effects.push(() => {
          state.last_run = interrupted;
        });
      }
      if (state.queue.length > 0) resume.push(state);
    }
    for (const diagnostic of snapshot.recovery_diagnostics) this.#recordDiagnostic(records, diagnostic);
    this.#event(records, 'runtime_started', `runtime ${this.runtime_id} started`, {
      data: { version: VERSION, store: this.#store.kind },
    });
    await this.#commit(records, () => {
      for (const effect of effects) effect();
    });
    for (const state of resume) this.#pump(state);
  }
}
