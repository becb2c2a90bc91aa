import type { CommitLog } from './commit-log.js';
import type { AppendEntry, EngineResult, EngineRun } from './engine.js';
import { type AppendedEntry, EngineRunHandle, entryExtras, parseAppend } from './engine-run.js';
import { isRuntimeError, RuntimeError } from './errors.js';
import { displayRef, generateId } from './identity.js';
import type { OutputDeltas } from './output-deltas.js';
import type { ProfileCatalog, ResolvedProfile } from './profiles.js';
import type { EventKind } from './schemas/event.js';
import type { RunRecord } from './schemas/run.js';
import type { TranscriptEntry } from './schemas/transcript.js';
import type { PendingInput, RuntimeStore, StoreRecord } from './store.js';
import type { Timestamps } from './timestamps.js';
import type { WorkerChange } from './worker-registry.js';
import type { AbortOutcome, ActiveRun, QueuedRun, RunControl, WorkerState } from './worker-state.js';

type RunOutcome = { status: RunRecord['status']; error: RunRecord['error'] };

/** Keeps a run's timer so its end clears it; the set is made for the first one. */
function addTimer(control: RunControl, timer: NodeJS.Timeout): void {
  control.timers ??= new Set();
  control.timers.add(timer);
}

/** A run's terminal event kind and the words its message uses, by terminal status. */
const RUN_ENDS = {
  completed: { kind: 'run_completed', words: 'completed' },
  failed: { kind: 'run_failed', words: 'failed' },
  cancelled: { kind: 'run_cancelled', words: 'cancelled' },
  timed_out: { kind: 'run_timed_out', words: 'timed out' },
  interrupted: { kind: 'run_interrupted', words: 'interrupted' },
} as const satisfies Record<string, { kind: EventKind; words: string }>;

/**
 * Runs engines for the Runtime: starts runs (durably), enforces timeouts, aborts and fences, commits
 * each run's terminal state exactly once, and starts the next queued input. It changes worker state
 * only through the {@link WorkerChange}s of the batches it commits, and owns each run's {@link RunControl}.
 */
export class RunExecutor {
  readonly #log: CommitLog;
  readonly #store: RuntimeStore;
  readonly #catalog: ProfileCatalog;
  readonly #clock: Timestamps;
  readonly #graceMs: number;
  readonly #runtime: { runtime_id: string; display_name: string | null };
  readonly #deltas: OutputDeltas;
  /** False once the Runtime is closing: nothing new starts. */
  #accepting = true;

  constructor(options: {
    log: CommitLog;
    store: RuntimeStore;
    catalog: ProfileCatalog;
    clock: Timestamps;
    cancel_grace_ms: number;
    /** The runtime's identity, for the display refs engines see. */
    runtime: { runtime_id: string; display_name: string | null };
    /** Where output deltas are published. */
    deltas: OutputDeltas;
  }) {
    this.#log = options.log;
    this.#store = options.store;
    this.#catalog = options.catalog;
    this.#clock = options.clock;
    this.#graceMs = options.cancel_grace_ms;
    this.#runtime = options.runtime;
    this.#deltas = options.deltas;
  }

  /** Starts nothing new from now on (the Runtime is closing); active runs go on until aborted. */
  shutdown(): void {
    this.#accepting = false;
  }

  /** A fresh `queued` run record, queued at `millis` (default: now). */
  newRun(idempotency_key: string | undefined, millis: number = this.#clock.millis()): RunRecord {
    return {
      run_id: generateId(millis),
      status: 'queued',
      input_sequence: null,
      queued_at: this.#clock.isoAt(millis),
      started_at: null,
      ended_at: null,
      error: null,
      idempotency_key: idempotency_key ?? null,
      output_entries: 0,
    };
  }

  /**
   * Adds the records that start `pending` (running run, user entry, events) to a batch; returns the
   * run's live state, which the batch's `run_started` change makes the worker's active run.
   */
  start(records: StoreRecord[], state: WorkerState, pending: QueuedRun, now: string = this.#clock.iso()): ActiveRun {
    const worker_id = state.record.worker_id;
    const record: RunRecord = {
      ...pending.record,
      status: 'running',
      input_sequence: state.transcript_len + 1,
      started_at: now,
    };
    this.#log.event(
      records,
      'run_started',
      `run ${record.run_id} started`,
      { worker: state.ref, run_id: record.run_id },
      now,
    );
    records.push({ type: 'run', run: { worker_id, run: record, input: null } });
    this.#log.entry(records, state, 'user', pending.input.content, record.run_id, undefined, now);
    let resolveFinished: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      resolveFinished = resolve;
    });
    const control: RunControl = {
      controller: null,
      outcome: null,
      fenced: false,
      final_pending: false,
      finalized: false,
      resolveFinished,
      timers: null,
      idle_timeout_ms: null,
      idle_timer: null,
      delta_entry: 0,
      delta_text: '',
      delta_base: 0,
    };
    return { record, end_event_id: null, finished, control };
  }

  /** Runs the engine in the background; the run is finalized whatever happens. */
  launch(state: WorkerState, active: ActiveRun, input: PendingInput): void {
    void this.#execute(state, active, input);
  }

  /** Aborts a run: fences its output now, signals the engine, and finalizes after the grace period at the latest. */
  abort(state: WorkerState, active: ActiveRun, outcome: AbortOutcome, grace_ms = this.#graceMs): void {
    const control = active.control;
    if (control.finalized || control.outcome) return;
    control.outcome = outcome;
    control.fenced = true;
    control.controller ??= new AbortController();
    control.controller.abort(new RuntimeError('runtime_unavailable', outcome.error.message));
    addTimer(
      control,
      setTimeout(() => void this.#finish(state, active, outcome), grace_ms),
    );
  }

  /** Starts the next queued input when the worker is free; resolves once it started (or nothing to do). */
  pump(state: WorkerState): Promise<void> {
    if (!this.#accepting || this.#log.failure) return Promise.resolve();
    // Nothing queued: nothing to start, so the lock is not taken (the common case, after every run).
    // Whoever holds or awaits it now and queues an input saw the worker busy with a run or an
    // interrupt, whose end pumps again.
    if (state.queue.length === 0) return Promise.resolve();
    return state.lock
      .run(async () => {
        if (state.active || state.queue.length === 0 || state.interrupts_pending > 0) return;
        if (state.record.status === 'stopped' || state.stopping || !this.#accepting) return;
        const next = state.queue[0] as QueuedRun;
        const records: StoreRecord[] = [];
        const active = this.start(records, state, next);
        await this.#log.commit(records, [{ kind: 'run_started', state, active, dequeued: true }]);
        this.launch(state, active, next.input);
      })
      .catch(() => undefined);
  }

  async #execute(state: WorkerState, active: ActiveRun, input: PendingInput): Promise<void> {
    let resolved: ResolvedProfile;
    try {
      resolved = this.#catalog.resolve(state.record.profile);
    } catch (error) {
      await this.#finish(state, active, {
        status: 'failed',
        error: { code: 'unknown_profile', message: (error as Error).message },
      });
      return;
    }
    const profileMs = resolved.profile.run_timeout_ms;
    const inputMs = input.timeout_ms;
    if (typeof profileMs === 'number' || typeof inputMs === 'number') {
      const ms = Math.min(profileMs ?? Number.POSITIVE_INFINITY, inputMs ?? Number.POSITIVE_INFINITY);
      const timeout = {
        status: 'timed_out' as const,
        error: { code: 'timed_out', message: `the run exceeded its ${ms} ms timeout` },
      };
      addTimer(
        active.control,
        setTimeout(() => this.abort(state, active, timeout), ms),
      );
    }
    active.control.idle_timeout_ms = resolved.profile.idle_timeout_ms ?? null;
    this.#armIdleTimer(state, active);
    let outcome: RunOutcome;
    let final: AppendedEntry | undefined;
    try {
      const result = await resolved.engine.run(this.#engineRun(state, active, resolved, input.content));
      const entry = (result as EngineResult | undefined)?.final;
      if (entry !== undefined) final = parseAppend(entry);
      outcome = { status: 'completed', error: null };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = isRuntimeError(error) ? error.code : 'engine_error';
      outcome = { status: 'failed', error: { code, message: message || 'the engine failed' } };
    }
    await this.#finish(state, active, outcome, final);
  }

  #engineRun(state: WorkerState, active: ActiveRun, resolved: ResolvedProfile, content: string): EngineRun {
    const worker_id = state.record.worker_id;
    return new EngineRunHandle(active.control, {
      worker: {
        ref: state.ref,
        profile: resolved.profile,
        profile_name: resolved.name,
        intent: state.record.intent,
        display_name: state.record.display_name,
        display_ref: displayRef(state.record, this.#runtime),
      },
      run_id: active.record.run_id,
      input: content,
      history: async (limit: number): Promise<TranscriptEntry[]> => {
        const count = Math.max(0, Math.min(Math.floor(limit), state.transcript_len));
        return count === 0 ? [] : this.#store.readTranscript(worker_id, state.transcript_len - count, count);
      },
      progress: (): void => this.#armIdleTimer(state, active),
      delta: (content: string): void => this.#delta(state, active, content),
      append: async (input: AppendEntry): Promise<void> => {
        const entry = parseAppend(input);
        const control = active.control;
        if (control.fenced) return;
        await state.lock.run(async () => {
          if (control.fenced || control.finalized) return;
          const records: StoreRecord[] = [];
          const sequence = this.#addEntry(records, state, active, entry);
          const record = { ...active.record, output_entries: active.record.output_entries + 1 };
          records.push({ type: 'run', run: { worker_id, run: record, input: null } });
          await this.#log.commit(records, [
            { kind: 'entry_appended', state, transcript_len: sequence },
            { kind: 'run_updated', state, active, record },
          ]);
          if (entry.role === 'assistant') {
            control.delta_entry++;
            control.delta_text = '';
          }
          this.#armIdleTimer(state, active);
        });
      },
    });
  }

  /** Adds an entry of the run (and its event) to a batch; returns its sequence. */
  #addEntry(
    records: StoreRecord[],
    state: WorkerState,
    active: ActiveRun,
    entry: AppendedEntry,
    now: string = this.#clock.iso(),
  ): number {
    return this.#log.entry(records, state, entry.role, entry.content, active.record.run_id, entryExtras(entry), now);
  }

  /** Publishes one output delta of the entry being produced; it also counts as progress. */
  #delta(state: WorkerState, active: ActiveRun, content: string): void {
    if (typeof content !== 'string') throw new TypeError('delta content must be a string');
    const control = active.control;
    if (control.fenced || content === '') return;
    const offset = control.delta_text.length;
    if (offset === 0) control.delta_base = active.record.output_entries;
    control.delta_text += content;
    this.#armIdleTimer(state, active);
    this.#deltas.publish({
      worker_ref: state.ref,
      run_id: active.record.run_id,
      entry: control.delta_entry,
      offset,
      content,
    });
  }

  #armIdleTimer(state: WorkerState, active: ActiveRun): void {
    const control = active.control;
    if (control.idle_timeout_ms === null || control.fenced) return;
    const ms = control.idle_timeout_ms;
    if (control.idle_timer) {
      clearTimeout(control.idle_timer);
      control.timers?.delete(control.idle_timer);
    }
    const idle = {
      status: 'timed_out' as const,
      error: { code: 'idle_timeout', message: `the run produced no output for ${ms} ms` },
    };
    control.idle_timer = setTimeout(() => this.abort(state, active, idle), ms);
    addTimer(control, control.idle_timer);
  }

  /**
   * Commits a run's terminal state (once), with the engine's `final` entry before it unless the run
   * was aborted (then it is dropped, like a late append), frees the worker and starts what is queued.
   */
  async #finish(state: WorkerState, active: ActiveRun, proposed: RunOutcome, final?: AppendedEntry): Promise<void> {
    const control = active.control;
    if (control.finalized) return;
    await state.lock.run(async () => {
      if (control.finalized) return;
      // Aborted runs were fenced before the engine handed its final entry: it is dropped.
      const entry = control.fenced ? undefined : final;
      control.finalized = true;
      control.fenced = true;
      // Until the final entry is durable its streamed text is still in progress (watch catch-up).
      control.final_pending = entry !== undefined;
      if (control.timers) for (const timer of control.timers) clearTimeout(timer);
      control.timers = null;
      const outcome = control.outcome ?? proposed;
      const now = this.#clock.iso();
      const records: StoreRecord[] = [];
      const changes: WorkerChange[] = [];
      let output_entries = active.record.output_entries;
      if (entry !== undefined) {
        const transcript_len = this.#addEntry(records, state, active, entry, now);
        changes.push({ kind: 'entry_appended', state, transcript_len });
        output_entries++;
      }
      const record: RunRecord = {
        ...active.record,
        status: outcome.status,
        error: outcome.error,
        ended_at: now,
        output_entries,
      };
      const worker_id = state.record.worker_id;
      records.push({ type: 'run', run: { worker_id, run: record, input: null } });
      const { kind, words } = RUN_ENDS[record.status as keyof typeof RUN_ENDS];
      const error = record.error;
      const end_event_id = this.#log.event(
        records,
        kind,
        error ? `run ${record.run_id} ${words}: ${error.message}` : `run ${record.run_id} ${words}`,
        error
          ? { worker: state.ref, run_id: record.run_id, data: { error } }
          : { worker: state.ref, run_id: record.run_id },
        now,
      );
      changes.push({ kind: 'run_ended', state, active, record, end_event_id });
      try {
        await this.#log.commit(records, changes);
      } catch {
        // The store failed: memory keeps what disk has (the run stays `running`) and reopening
        // recovers it as `interrupted`. Waiters are released all the same.
        control.final_pending = false;
      }
    });
    // The next queued input starts before waiters (cancel, stop, close) hear that this run ended, so
    // what they report next already includes it.
    await this.pump(state);
    control.resolveFinished();
  }
}
