import type { CommitLog } from './commit-log.js';
import type { WorkerEngine } from './engine.js';
import { RuntimeError } from './errors.js';
import type { OutputDeltas } from './output-deltas.js';
import type { ProfileCatalog } from './profiles.js';
import type { RunExecutor } from './run-executor.js';
import type { Limits, RuntimeStatus } from './schemas/runtime.js';
import type { RuntimeStore } from './store.js';
import type { Timestamps } from './timestamps.js';
import type { WatchHub } from './watch-hub.js';
import type { WorkerRegistry } from './worker-registry.js';

/** Whether the Runtime takes changes: `running`, then `closing`, then `closed`. */
export class RuntimeGate {
  status: RuntimeStatus = 'running';
  readonly #log: CommitLog;

  constructor(log: CommitLog) {
    this.#log = log;
  }

  /** @throws RuntimeError `runtime_unavailable` while closing, `store_unavailable` once the store failed */
  assertWritable(): void {
    if (this.status !== 'running') throw new RuntimeError('runtime_unavailable', 'the runtime is shutting down');
    if (this.#log.failure) throw this.#log.failure;
  }
}

/** The parts of one open Runtime, shared by the modules that implement its methods. */
export interface RuntimeContext {
  readonly runtime_id: string;
  readonly display_name: string | null;
  readonly limits: Readonly<Limits>;
  readonly started_at: string;
  readonly store: RuntimeStore;
  readonly catalog: ProfileCatalog;
  /** The engines given to `Runtime.open` (the built-in echo holds nothing to release). */
  readonly engines: readonly WorkerEngine[];
  readonly clock: Timestamps;
  readonly log: CommitLog;
  readonly workers: WorkerRegistry;
  readonly executor: RunExecutor;
  readonly deltas: OutputDeltas;
  readonly gate: RuntimeGate;
  /** Open watches (`Runtime#watch`), fed by the log and the delta channel. */
  readonly watches: WatchHub;
}
