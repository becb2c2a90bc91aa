import { displayRef } from './identity.js';
import { Mutex } from './mutex.js';
import type { WorkerRef } from './schemas/common.js';
import type { RunError, RunRecord } from './schemas/run.js';
import type { WorkerDetail, WorkerStatus, WorkerSummary } from './schemas/worker.js';
import type { PendingInput, StoredWorker, WorkerRecord } from './store.js';
import type { EventTally } from './store-bookkeeping.js';

/** How an aborted run ends. */
export interface AbortOutcome {
  status: 'cancelled' | 'timed_out' | 'interrupted';
  error: RunError;
}

/**
 * How the executor controls a run it executes. Owned by {@link RunExecutor} alone: worker state
 * never depends on it, and nothing else changes it.
 */
export interface RunControl {
  /** Made when the engine first reads its signal or the run is aborted (most runs need neither). */
  controller: AbortController | null;
  /** Set once the run is being aborted; decides its terminal status. */
  outcome: AbortOutcome | null;
  /** True once aborted: output from the engine is dropped from then on. */
  fenced: boolean;
  /** True while the engine's final entry commits with the run's end: its streamed text is still in progress. */
  final_pending: boolean;
  /** True once the terminal record was committed (or the attempt failed). */
  finalized: boolean;
  resolveFinished: () => void;
  /** The run's timers (timeouts, the idle timer, the grace period); made on first use (most runs have none). */
  timers: Set<NodeJS.Timeout> | null;
  idle_timeout_ms: number | null;
  idle_timer: NodeJS.Timeout | null;
  /** The output delta stream: the assistant entry being produced (0, 1, …) and its text so far. */
  delta_entry: number;
  delta_text: string;
  /** The run's `output_entries` when that text began: once it grew, the entry is durable (catch-up skips it). */
  delta_base: number;
}

/** The live part of a run that is executing now. */
export interface ActiveRun {
  /** Its latest record; replaced (never mutated) by the worker registry as commits apply. */
  record: RunRecord;
  /** The terminal event's id, once the run ended. */
  end_event_id: number | null;
  /** Resolves once the run ended (its terminal state is committed, or the attempt failed). */
  readonly finished: Promise<void>;
  readonly control: RunControl;
}

/** A user input waiting for its run. */
export interface QueuedRun {
  record: RunRecord;
  input: PendingInput;
}

/**
 * Everything the Runtime keeps in memory per Worker: O(1), transcripts stay in the store. Only the
 * {@link WorkerRegistry} changes it; everyone else reads it.
 */
export interface WorkerState extends EventTally {
  readonly ref: WorkerRef;
  record: WorkerRecord;
  transcript_len: number;
  active: ActiveRun | null;
  queue: QueuedRun[];
  last_run: RunRecord | null;
  /** Serializes every change to this worker (admission, control, the executor's commits). */
  readonly lock: Mutex;
  /** Inputs with `on_busy: interrupt` waiting for the active run to end; they start before the queue. */
  interrupts_pending: number;
  /** Set while a stop is cancelling the active run, so nothing new starts. */
  stopping: boolean;
}

/** The live state of a worker known to the store (no active run; `queue` as recovered). */
export function newWorkerState(
  runtime_id: string,
  stored: Pick<StoredWorker, 'worker' | 'transcript_len' | 'last_event_id' | 'updated_at' | 'last_run'>,
  queue: QueuedRun[] = [],
): WorkerState {
  return {
    ref: { runtime_id, worker_id: stored.worker.worker_id },
    record: stored.worker,
    transcript_len: stored.transcript_len,
    last_event_id: stored.last_event_id,
    updated_at: stored.updated_at,
    active: null,
    queue,
    last_run: stored.last_run,
    lock: new Mutex(),
    interrupts_pending: 0,
    stopping: false,
  };
}

/** `stopped` if stopped, `running` with an active run, else `idle`. */
export function workerStatus(state: WorkerState): WorkerStatus {
  if (state.record.status === 'stopped') return 'stopped';
  return state.active ? 'running' : 'idle';
}

/** The wire summary of a Worker. */
export function toSummary(
  state: WorkerState,
  runtime: { runtime_id: string; display_name: string | null },
): WorkerSummary {
  const { record } = state;
  return {
    worker_ref: { ...state.ref },
    worker_id: record.worker_id,
    runtime_id: runtime.runtime_id,
    display_name: record.display_name,
    display_ref: displayRef(record, runtime),
    status: workerStatus(state),
    // Shallow copies suffice: these records are flat and never mutated once committed (and
    // structuredClone dominated the cost of a GET).
    intent: { ...record.intent },
    profile: { ...record.profile },
    created_at: record.created_at,
    updated_at: state.updated_at,
    transcript_len: state.transcript_len,
    last_event_id: state.last_event_id,
    active_run: state.active ? { ...state.active.record } : null,
    queued_inputs: state.queue.length,
  };
}

/** The wire detail of a Worker. */
export function toDetail(
  state: WorkerState,
  runtime: { runtime_id: string; display_name: string | null },
): WorkerDetail {
  const { record } = state;
  // Fields are added to the summary object rather than spread into a new one: on Node 20 the spread
  // of a 14-field object costs ~40x more, and this is every GET of a worker.
  const detail = toSummary(state, runtime) as WorkerDetail;
  detail.last_run = state.last_run ? { ...state.last_run } : null;
  detail.requested_capabilities = record.requested_capabilities.map((capability) => ({ ...capability }));
  detail.workspace_refs = record.workspace_refs.map((ref) => ({ ...ref }));
  detail.mount_refs = record.mount_refs.map((ref) => ({ ...ref }));
  detail.metadata = { ...record.metadata };
  detail.config_bundle = record.config_bundle ? { ...record.config_bundle } : null;
  return detail;
}
