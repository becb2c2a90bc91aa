import type { CommitLog } from './commit-log.js';
import type { OutputDeltas } from './output-deltas.js';
import type { Limits } from './schemas/runtime.js';
import type { OutputDelta } from './schemas/stream.js';
import type { RuntimeStore } from './store.js';
import { WatchHub } from './watch-hub.js';
import type { WatchScope } from './watch-start.js';
import type { WorkerRegistry } from './worker-registry.js';

/** The Runtime's internals a watch hub reads. */
export interface RuntimeWatchSources {
  store: RuntimeStore;
  log: CommitLog;
  deltas: OutputDeltas;
  workers: WorkerRegistry;
  limits: Readonly<Limits>;
  accepting: () => boolean;
  /** @throws RuntimeError `worker_not_found`, `run_not_found` */
  findRun: (worker_id: string, run_id: string) => Promise<void>;
}

/** The watch hub of a Runtime: replay from its store, live from its commit log and delta channel. */
export function createRuntimeWatchHub(sources: RuntimeWatchSources): WatchHub {
  const { store, log, deltas, workers, limits } = sources;
  return new WatchHub({
    source: store,
    lastEventId: () => log.lastEventId,
    subscribeEvents: (listener) => log.subscribe(listener),
    subscribeDeltas: (listener) => deltas.subscribe(listener),
    catchUp: (scope) => catchUp(workers, scope),
    findRun: sources.findRun,
    runLive: (worker_id, run_id) => {
      if (!workers.has(worker_id)) return false;
      const state = workers.get(worker_id);
      return state.active?.record.run_id === run_id || state.queue.some((queued) => queued.record.run_id === run_id);
    },
    accepting: sources.accepting,
    limits,
  });
}

/** The text so far of each active run's entry in progress (the executor keeps it while the run is active). */
function catchUp(workers: WorkerRegistry, scope: WatchScope): OutputDelta[] {
  if (scope.worker_id !== undefined && !workers.has(scope.worker_id)) return [];
  const states = scope.worker_id !== undefined ? [workers.get(scope.worker_id)] : workers.values();
  const deltas: OutputDelta[] = [];
  for (const state of states) {
    const active = state.active;
    const control = active?.control;
    if (!active || !control || (control.fenced && !control.final_pending) || control.delta_text === '') continue;
    if (scope.run_id !== undefined && active.record.run_id !== scope.run_id) continue;
    // The entry was appended (its event is out) but the executor has not moved on yet: not in progress.
    if (active.record.output_entries !== control.delta_base) continue;
    deltas.push({
      worker_ref: state.ref,
      run_id: active.record.run_id,
      entry: control.delta_entry,
      offset: 0,
      content: control.delta_text,
    });
  }
  return deltas;
}
