import { EVENT_KINDS, type EventKind } from './schemas/event.js';
import type { RunStatus } from './schemas/run.js';
import type { Severity } from './schemas/runtime.js';
import type { StoreRecord } from './store.js';

/** How a run ended, as counted by {@link RuntimeMetricsSnapshot.runs_ended}. */
export type RunEndStatus = Exclude<RunStatus, 'queued' | 'running'>;

/** One run that ended, as an observer hears of it. */
export interface RunEnded {
  status: RunEndStatus;
  /** Seconds from `run_started` to its terminal event; null for a run that never started in this process. */
  seconds: number | null;
}

/**
 * Hears of what a Runtime measures as it happens (for histograms: a snapshot cannot carry every
 * observation). Called synchronously after the batch is durable; a throwing observer is ignored.
 */
export interface RuntimeObserver {
  /** A run reached its terminal state (its event is durable). */
  runEnded?(run: RunEnded): void;
  /** A batch is durable: seconds from handing it to the store until it was applied, in order. */
  committed?(seconds: number): void;
}

/** Counters and gauges of one open Runtime (`Runtime#metrics()`); counters count since `Runtime.open`. */
export interface RuntimeMetricsSnapshot {
  /** The store's kind (`memory`, `fs`, `postgres`, …). */
  store: string;
  workers: Record<'idle' | 'running' | 'stopped', number>;
  active_runs: number;
  queued_inputs: number;
  /** Runs that reached each terminal status (recovered `interrupted` runs included). */
  runs_ended: Record<RunEndStatus, number>;
  /** Durable events by kind. */
  events: Record<EventKind, number>;
  /** Diagnostics recorded, by severity. */
  diagnostics: Record<Severity, number>;
  /** Batches the store failed to write (the first one makes the Runtime read-only). */
  store_commit_failures: number;
  /** True once the store failed and the Runtime accepts no changes. */
  store_failed: boolean;
  /** Open watches (`Runtime#watch`, each live stream is one). */
  watches: number;
  last_event_id: number;
}

const RUN_END_KINDS: ReadonlyMap<EventKind, RunEndStatus> = new Map([
  ['run_completed', 'completed'],
  ['run_failed', 'failed'],
  ['run_cancelled', 'cancelled'],
  ['run_timed_out', 'timed_out'],
  ['run_interrupted', 'interrupted'],
]);

/** The count of one event kind, and the run status it ends (null for the kinds that end no run). */
interface KindTally {
  count: number;
  readonly ends: RunEndStatus | null;
}

/**
 * The Runtime's own tallies, fed by the commit log with every durable batch (no copies, no
 * listeners on the hot path beyond one call per batch), and the observers that hear of run ends
 * and commit durations. Store-agnostic: it sees only committed records.
 */
export class RuntimeMetrics {
  // A Map: counting into an object by a varying key was a megamorphic keyed store per event. One
  // lookup per event finds its count and whether it ends a run.
  readonly #events = new Map<EventKind, KindTally>(
    EVENT_KINDS.map((kind) => [kind, { count: 0, ends: RUN_END_KINDS.get(kind) ?? null }]),
  );
  readonly #diagnostics: Record<Severity, number> = { info: 0, warning: 0, error: 0 };
  readonly #runStarts = new Map<string, number>();
  readonly #observers = new Set<RuntimeObserver>();
  #commitFailures = 0;

  /** Adds an observer; returns a function that removes it. */
  observe(observer: RuntimeObserver): () => void {
    this.#observers.add(observer);
    return () => {
      this.#observers.delete(observer);
    };
  }

  /** True while observers listen: only they need a commit's duration (see {@link committed}). */
  get observed(): boolean {
    return this.#observers.size > 0;
  }

  /**
   * A durable batch, handed to the store at `started` (`performance.now()`, or -1 when nobody
   * observed then). The clock is read only when something needs it (~150 ns a read on this VM).
   */
  committed(records: readonly StoreRecord[], started: number): void {
    let now = -1;
    if (started >= 0 && this.#observers.size > 0) {
      now = performance.now();
      const seconds = (now - started) / 1000;
      for (const observer of this.#observers) call(() => observer.committed?.(seconds));
    }
    for (const record of records) {
      if (record.type === 'diagnostic') this.#diagnostics[record.diagnostic.severity]++;
      if (record.type !== 'event') continue;
      const { kind, run_id } = record.event;
      const tally = this.#events.get(kind);
      if (tally === undefined) continue;
      tally.count++;
      if (run_id === undefined) continue;
      if (kind === 'run_started') {
        if (now < 0) now = performance.now();
        this.#runStarts.set(run_id, now);
        continue;
      }
      const status = tally.ends;
      if (status === null) continue;
      const started = this.#runStarts.get(run_id);
      this.#runStarts.delete(run_id);
      if (this.#observers.size === 0) continue;
      if (now < 0) now = performance.now();
      const ended: RunEnded = { status, seconds: started === undefined ? null : (now - started) / 1000 };
      for (const observer of this.#observers) call(() => observer.runEnded?.(ended));
    }
  }

  /** A batch the store failed to write. */
  failed(): void {
    this.#commitFailures++;
  }

  /** The counters (copies). */
  counters(): Pick<RuntimeMetricsSnapshot, 'runs_ended' | 'events' | 'diagnostics' | 'store_commit_failures'> {
    const runs_ended = { completed: 0, failed: 0, cancelled: 0, timed_out: 0, interrupted: 0 };
    const events = {} as Record<EventKind, number>;
    for (const [kind, { count, ends }] of this.#events) {
      events[kind] = count;
      if (ends !== null) runs_ended[ends] = count;
    }
    return {
      runs_ended,
      events,
      diagnostics: { ...this.#diagnostics },
      store_commit_failures: this.#commitFailures,
    };
  }
}

function call(fn: () => void): void {
  try {
    fn();
  } catch {
    // An observer's failure is its own; the Runtime goes on.
  }
}
