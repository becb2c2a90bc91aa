import type { CommitLog } from './commit-log.js';
import type { RunRecord } from './schemas/run.js';
import type { StoreRecord, StoreSnapshot } from './store.js';
import { newWorkerState, type WorkerState } from './worker-state.js';

/** What reopening a store decides: the batch that records it, its effect, and who resumes work. */
export interface RecoveryPlan {
  records: StoreRecord[];
  /** Applies the batch to memory once it is durable. */
  apply(): void;
  /** Workers with queued inputs to start once the batch is durable. */
  resume: WorkerState[];
}

/**
 * Rebuilds live worker state from a snapshot (into `workers`) and plans the recovery batch: runs
 * found `running` become `interrupted` (the process died or shut down while they ran), queued
 * inputs stay queued in order, and diagnostics the store raised while opening are recorded.
 */
export function planRecovery(options: {
  snapshot: StoreSnapshot;
  workers: Map<string, WorkerState>;
  log: CommitLog;
  runtime_id: string;
  now: string;
}): RecoveryPlan {
  const { snapshot, workers, log, runtime_id, now } = options;
  const records: StoreRecord[] = [];
  const resume: WorkerState[] = [];
  const effects: Array<() => void> = [];
  for (const stored of snapshot.workers) {
    const state = newWorkerState(runtime_id, stored);
    const worker_id = stored.worker.worker_id;
    workers.set(worker_id, state);
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
      records.push({ type: 'run', run: { worker_id, run: interrupted, input: null } });
      log.event(
        records,
        'run_interrupted',
        `run ${interrupted.run_id} interrupted: the runtime stopped while it was active`,
        {
          worker_id,
          run_id: interrupted.run_id,
        },
      );
      effects.push(() => {
        state.last_run = interrupted;
      });
    }
    if (state.queue.length > 0) resume.push(state);
  }
  for (const diagnostic of snapshot.recovery_diagnostics) log.recordDiagnostic(records, diagnostic);
  return {
    records,
    resume,
    apply: () => {
      for (const effect of effects) effect();
    },
  };
}
