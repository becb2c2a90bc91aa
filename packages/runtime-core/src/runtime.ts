import type { EventListener, StoreFailureListener } from './commit-log.js';
import type { RuntimeError } from './errors.js';
import { InputAdmission } from './input-admission.js';
import type { RuntimeContext } from './runtime-context.js';
import { closeRuntime, openRuntime, type RuntimeOptions } from './runtime-lifecycle.js';
import type { RuntimeMetricsSnapshot, RuntimeObserver } from './runtime-metrics.js';
import { getRun, listRuns, listWorkers, readEvents, transcript } from './runtime-reads.js';
import { capabilities, metricsSnapshot, summary } from './runtime-summary.js';
import { MAX_TIMER_MS } from './schemas/common.js';
import type { EventBatch } from './schemas/event.js';
import type { ControlAck, ControlRequest, DeleteAck, DeleteRequest, InputAck, InputRequest } from './schemas/input.js';
import type { GetRunOptions, ListRunsQuery, RunPage, RunRecord } from './schemas/run.js';
import type { Diagnostic, Limits, RuntimeCapabilities, RuntimeStatus, RuntimeSummary } from './schemas/runtime.js';
import type { TranscriptPage, TranscriptQuery } from './schemas/transcript.js';
import type { CreateWorkerRequest, ListWorkersQuery, WorkerDetail, WorkerPage } from './schemas/worker.js';
import type { Watch } from './watch.js';
import type { WatchOptions } from './watch-hub.js';
import type { WorkerAddress } from './worker-address.js';
import { cancelWorker, stopWorker } from './worker-control.js';
import { WorkerCreation } from './worker-creation.js';
import { deleteWorker } from './worker-deletion.js';
import { toDetail } from './worker-state.js';

export type { EventListener, StoreFailureListener } from './commit-log.js';
export type { RuntimeOptions } from './runtime-lifecycle.js';
export type { RunEnded, RunEndStatus, RuntimeMetricsSnapshot, RuntimeObserver } from './runtime-metrics.js';
export type { WorkerAddress } from './worker-address.js';

/**
 * A Runtime hosts many Workers, each addressed by `runtime_id + worker_id`. Every method is async and
 * throws {@link RuntimeError}. Each acknowledged mutation is durable in the store before it resolves.
 *
 * Browsers never talk to a Runtime: it is driven by a trusted backend, in process or over REST.
 *
 * This class is a facade: each concept lives in a module named for it (lifecycle, reads, creation,
 * admission, control), over one owner of worker state (the worker registry).
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
  readonly #ctx: RuntimeContext;
  readonly #creation: WorkerCreation;
  readonly #admission: InputAdmission;
  #closing: Promise<void> | null = null;

  private constructor(ctx: RuntimeContext) {
    this.#ctx = ctx;
    this.runtime_id = ctx.runtime_id;
    this.display_name = ctx.display_name;
    this.limits = ctx.limits;
    this.#creation = new WorkerCreation(ctx);
    this.#admission = new InputAdmission(ctx);
  }

  /**
   * Opens a Runtime on a store (default: memory), recovering what the store holds: runs found
   * `running` become `interrupted`, queued inputs resume in order.
   * @throws RuntimeError `invalid_id`, `invalid_request`, `unknown_profile`, `store_locked`, `store_unavailable`
   */
  static async open(options: RuntimeOptions = {}): Promise<Runtime> {
    return new Runtime(await openRuntime(options));
  }

  // ---------------------------------------------------------------- reads

  /** Ids, status, counts, limits, capabilities and profiles of this Runtime. */
  async summary(): Promise<RuntimeSummary> {
    return summary(this.#ctx);
  }

  /** Engines, capabilities, input kinds and busy policies this Runtime supports. */
  async capabilities(): Promise<RuntimeCapabilities> {
    return capabilities(this.#ctx);
  }

  /** The newest diagnostics (at most `limits.max_diagnostics`), oldest first. */
  async diagnostics(): Promise<Diagnostic[]> {
    return this.#ctx.log.diagnostics();
  }

  /**
   * Workers in creation order, optionally only those with `status`.
   * @throws RuntimeError `invalid_request`, `limit_too_large`
   */
  async listWorkers(query: ListWorkersQuery = {}): Promise<WorkerPage> {
    return listWorkers(this.#ctx, query);
  }

  /**
   * One Worker with its last run and creation inputs.
   * @throws RuntimeError `invalid_id`, `worker_not_found`
   */
  async getWorker(worker: WorkerAddress): Promise<WorkerDetail> {
    return toDetail(this.#ctx.workers.get(worker), this.#ctx);
  }

  /**
   * A number that changes whenever anything in the Worker's detail changes (it is the id of the
   * newest event naming the Worker). Lets a caller cache a detail, or serve conditional requests.
   * @throws RuntimeError `invalid_id`, `worker_not_found`
   */
  async workerRevision(worker: WorkerAddress): Promise<number> {
    return this.workerRevisionSync(worker);
  }

  /**
   * {@link Runtime.workerRevision} answered synchronously (the revision is held in memory), for a
   * caller that checks a cache on every read without a promise per check.
   * @throws RuntimeError `invalid_id`, `worker_not_found`
   */
  workerRevisionSync(worker: WorkerAddress): number {
    return this.#ctx.workers.get(worker).last_event_id;
  }

  /**
   * One run. With `wait_ms`, waits (at most `limits.max_wait_ms`) until the run is terminal.
   * @throws RuntimeError `invalid_id`, `worker_not_found`, `run_not_found`, `invalid_request`
   */
  async getRun(worker: WorkerAddress, run_id: string, options: GetRunOptions = {}): Promise<RunRecord> {
    return await getRun(this.#ctx, worker, run_id, options);
  }

  /**
   * A worker's runs, oldest first.
   * @throws RuntimeError `invalid_id`, `worker_not_found`, `invalid_request`, `limit_too_large`
   */
  async listRuns(worker: WorkerAddress, query: ListRunsQuery = {}): Promise<RunPage> {
    return listRuns(this.#ctx, worker, query);
  }

  /**
   * A page of a worker's transcript. `start` is 0-based; `tail=N` returns the last N entries.
   * @throws RuntimeError `invalid_id`, `worker_not_found`, `invalid_request`, `limit_too_large`
   */
  async transcript(worker: WorkerAddress, query: TranscriptQuery = {}): Promise<TranscriptPage> {
    return transcript(this.#ctx, worker, query);
  }

  /**
   * Events after `after` (default 0), oldest first. With `wait_ms`, waits (at most
   * `limits.max_wait_ms`) while nothing is after `after`.
   * @throws RuntimeError `invalid_request`, `invalid_id`, `limit_too_large`, `cursor_expired`
   */
  async readEvents(
    query: { after?: number; limit?: number; worker_id?: string; wait_ms?: number } = {},
  ): Promise<EventBatch> {
    return readEvents(this.#ctx, query);
  }

  /** Calls `listener` with every event committed from now on, in id order. Returns an unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    return this.#ctx.log.subscribe(listener);
  }

  /**
   * Durable events and output deltas as one async iterator (SPEC §12): the events after `after`
   * (omitted: only new ones), then one catch-up delta per entry in progress, then live items. Every
   * event exactly once, in id order. Filtered by `worker_id` and `run_id` (a run watch ends after
   * the run's terminal event). Ends when `signal` aborts, on `return()`, and at `close()`. Errors
   * come from `ready()` or the first `next()`; a consumer more than
   * `limits.max_stream_buffer_bytes` behind is ended with `slow_consumer`.
   * @throws (from `ready()`/`next()`) RuntimeError `invalid_request`, `invalid_id`, `cursor_expired`,
   *   `worker_not_found`, `run_not_found`, `too_many_streams`, `runtime_unavailable`, `slow_consumer`
   * @example
   * for await (const item of runtime.watch({ worker_id, after: 0, signal })) {
   *   if (item.type === 'delta') process.stdout.write(item.content);
   * }
   */
  watch(options: WatchOptions = {}): Watch {
    return this.#ctx.watches.open(options);
  }

  /** How many watches are open (each live stream is one). */
  get watchCount(): number {
    return this.#ctx.watches.size;
  }

  /**
   * Counters (since open) and gauges for monitoring: workers by status, active runs, queued
   * inputs, runs ended by status, events by kind, diagnostics by severity, store failures, watches.
   */
  metrics(): RuntimeMetricsSnapshot {
    return metricsSnapshot(this.#ctx);
  }

  /**
   * Calls `observer` as runs end (with their duration) and batches commit (with their latency),
   * for histograms. Returns a function that removes it.
   */
  observe(observer: RuntimeObserver): () => void {
    return this.#ctx.metrics.observe(observer);
  }

  // ---------------------------------------------------------------- mutations

  /**
   * Creates a Worker from a profile. With `idempotency_key`, a retry with the same body answers the
   * Worker the first call created (also after a restart).
   * @throws RuntimeError `invalid_request`, `invalid_id`, `duplicate_worker`, `capacity_exceeded`,
   *   `idempotency_conflict`, `unknown_profile`, `unsupported_capability`, `unsupported_operation`,
   *   `runtime_unavailable`, `store_unavailable`
   */
  async createWorker(request: CreateWorkerRequest): Promise<WorkerDetail> {
    return this.#creation.create(request);
  }

  /**
   * Sends input. A `user` input starts a run (or queues, rejects or interrupts per `on_busy`); a
   * `system` input is appended to the transcript without a run.
   * @throws RuntimeError `invalid_request`, `invalid_id`, `worker_not_found`, `worker_busy`, `queue_full`,
   *   `worker_stopped`, `idempotency_conflict`, `runtime_unavailable`, `store_unavailable`
   */
  async sendInput(worker: WorkerAddress, input: InputRequest): Promise<InputAck> {
    return await this.#admission.send(worker, input);
  }

  /**
   * Cancels the active run (its engine sees the abort). Resolves once the engine stopped or after
   * `limits.cancel_grace_ms`; the run ends `cancelled` and the queue continues.
   * @throws RuntimeError `invalid_id`, `worker_not_found`, `invalid_request`, `runtime_unavailable`, `store_unavailable`
   */
  async cancelWorker(worker: WorkerAddress, request: ControlRequest = {}): Promise<ControlAck> {
    return cancelWorker(this.#ctx, worker, request);
  }

  /**
   * Stops a Worker for good: cancels the active run and queued inputs, then marks it `stopped`.
   * Stopping a stopped Worker answers the original `event_id` and changes nothing.
   * @throws RuntimeError `invalid_id`, `worker_not_found`, `invalid_request`, `runtime_unavailable`, `store_unavailable`
   */
  async stopWorker(worker: WorkerAddress, request: ControlRequest = {}): Promise<ControlAck> {
    return stopWorker(this.#ctx, worker, request);
  }

  /**
   * Deletes a stopped Worker: a durable `worker_deleted` event, then its transcript, runs and
   * idempotency records are removed from the store. Reads then answer `worker_not_found`; the id
   * stays reserved (`duplicate_worker`), also after a restart. With `force`, a Worker that is not
   * stopped is stopped first.
   * @throws RuntimeError `invalid_id`, `worker_not_found`, `worker_not_stopped`, `invalid_request`,
   *   `runtime_unavailable`, `store_unavailable`
   */
  async deleteWorker(worker: WorkerAddress, request: DeleteRequest = {}): Promise<DeleteAck> {
    return deleteWorker(this.#ctx, worker, request);
  }

  /**
   * Closes the Runtime: refuses new mutations (`runtime_unavailable`), interrupts active runs (queued
   * ones stay queued for the next open), answers long-polls, and releases the store. Idempotent.
   */
  async close(options: { grace_ms?: number } = {}): Promise<void> {
    const grace_ms = Math.min(Math.max(0, options.grace_ms ?? this.limits.cancel_grace_ms), MAX_TIMER_MS);
    this.#closing ??= closeRuntime(this.#ctx, grace_ms);
    return this.#closing;
  }

  /** `running`, `closing` or `closed`. */
  get status(): RuntimeStatus {
    return this.#ctx.gate.status;
  }

  /**
   * The store failure that stopped all mutations (`store_unavailable`), or null while the store
   * writes. Reads keep working; reopening the Runtime is the way back.
   */
  get storeFailure(): RuntimeError | null {
    return this.#ctx.log.failure;
  }

  /**
   * Calls `listener` once, with the `store_unavailable` error, when the store fails and the Runtime
   * stops accepting changes (in a microtask if it already failed). Returns an unsubscribe function.
   */
  onStoreFailure(listener: StoreFailureListener): () => void {
    return this.#ctx.log.onFailure(listener);
  }
}
