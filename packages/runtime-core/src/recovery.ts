import type { CommitLog } from './commit-log.js';
import type { RunRecord } from './schemas/run.js';
import type { StoreRecord, StoreSnapshot } from './store.js';
import type { WorkerChange } from './worker-registry.js';
import { newWorkerState, type QueuedRun, type WorkerState } from './worker-state.js';

/** What reopening a store decides: the batch that records it, its changes, and who resumes work. */
export interface RecoveryPlan {
  records: StoreRecord[];
  /** The workers (added) and the runs closed, applied once the batch is durable. */
  changes: WorkerChange[];
  /** Workers with queued inputs to start once the batch is durable. */
  resume: WorkerState[];
}

/**
 * Plans the recovery batch from a snapshot: live worker state for every stored worker, runs found
 * `running` become `interrupted` (the process died or shut down while they ran), queued inputs stay
 * queued in order, and diagnostics the store raised while opening are recorded.
 */
export function planRecovery(options: {
  snapshot: StoreSnapshot;
  log: CommitLog;
  runtime_id: string;
  now: string;
}): RecoveryPlan {
  const { snapshot, log, runtime_id, now } = options;
  const records: StoreRecord[] = [];
  const changes: WorkerChange[] = [];
  const resume: WorkerState[] = [];
  for (const stored of snapshot.workers) {
    const worker_id = stored.worker.worker_id;
    const queue: QueuedRun[] = [];
    const closed: RunRecord[] = [];
    for (const unfinished of stored.unfinished_runs) {
      if (unfinished.run.status === 'queued' && unfinished.input && stored.worker.status !== 'stopped') {
        queue.push({ record: unfinished.run, input: unfinished.input });
        continue;
      }
      closed.push({
        ...unfinished.run,
        status: 'interrupted',
        ended_at: now,
        error: { code: 'interrupted', message: 'the runtime stopped while the run was active' },
      });
    }
    const state = newWorkerState(runtime_id, stored, queue);
    changes.push({ kind: 'worker_added', state });
    for (const record of closed) {
      records.push({ type: 'run', run: { worker_id, run: record, input: null } });
      log.event(
        records,
        'run_interrupted',
        `run ${record.run_id} interrupted: the runtime stopped while it was active`,
        {
          worker: state.ref,
          run_id: record.run_id,
        },
      );
      changes.push({ kind: 'run_closed', state, record });
    }
    if (queue.length > 0) resume.push(state);
  }
  for (const diagnostic of snapshot.recovery_diagnostics) log.recordDiagnostic(records, diagnostic);
  return { records, changes, resume };
}
