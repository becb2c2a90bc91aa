import { CommitLog } from './commit-log.js';
import type { WorkerEngine } from './engine.js';
import { assertValidId, generateId } from './identity.js';
import { resolveLimits } from './limits.js';
import { MemoryStore } from './memory-store.js';
import { OutputDeltas } from './output-deltas.js';
import { ProfileCatalog } from './profiles.js';
import { planRecovery } from './recovery.js';
import { RunExecutor } from './run-executor.js';
import { type RuntimeContext, RuntimeGate } from './runtime-context.js';
import { getRun } from './runtime-reads.js';
import { createRuntimeWatchHub } from './runtime-watches.js';
import { DisplayNameSchema } from './schemas/common.js';
import type { Diagnostic, Limits, ProfileInput } from './schemas/runtime.js';
import type { RuntimeStore, StoreRecord } from './store.js';
import { Timestamps } from './timestamps.js';
import { parseOrThrow } from './validation.js';
import { VERSION } from './version.js';
import { WorkerRegistry } from './worker-registry.js';

/** Options of `Runtime.open`. */
export interface RuntimeOptions {
  /** Open (or create) this runtime id; otherwise the store's own or a new random one. */
  runtime_id?: string;
  /** A human label used only when the runtime is created. */
  display_name?: string;
  /** Where state lives (default: a new in-memory store). */
  store?: RuntimeStore;
  /** Named profiles: `{ name: { engine, description?, run_timeout_ms?, idle_timeout_ms?, capabilities?, …options } }`. */
  profiles?: Record<string, ProfileInput>;
  /** Engines profiles may name, besides the built-in `echo`. */
  engines?: readonly WorkerEngine[];
  /** The profile `runtime_default` means (default: the built-in echo profile). */
  default_profile?: string;
  /** Overrides of SPEC §11 limits. */
  limits?: Partial<Limits>;
  /** Milliseconds since the epoch (default `Date.now`); used for timestamps, not timers. */
  clock?: () => number;
}

/**
 * Opens a store and resumes what it holds: builds the Runtime's parts, records `runtime_started`
 * with the recovery batch (runs found `running` become `interrupted`), and restarts queued inputs.
 * @throws RuntimeError `invalid_id`, `invalid_request`, `unknown_profile`, `store_locked`, `store_unavailable`
 */
export async function openRuntime(options: RuntimeOptions): Promise<RuntimeContext> {
  const limits = Object.freeze(resolveLimits(options.limits ?? {}));
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
  const { runtime_id, display_name } = snapshot.runtime;
  const workers = new WorkerRegistry(runtime_id);
  const log = new CommitLog({
    store,
    clock,
    workers,
    last_event_id: snapshot.last_event_id,
    diagnostics: snapshot.diagnostics,
    max_diagnostics: limits.max_diagnostics,
  });
  const deltas = new OutputDeltas();
  const executor = new RunExecutor({
    log,
    store,
    catalog,
    clock,
    cancel_grace_ms: limits.cancel_grace_ms,
    runtime: { runtime_id, display_name },
    deltas,
  });
  const gate = new RuntimeGate(log);
  const ctx: RuntimeContext = {
    runtime_id,
    display_name,
    limits,
    started_at: clock.iso(),
    store,
    catalog,
    engines: options.engines ?? [],
    clock,
    log,
    workers,
    executor,
    deltas,
    gate,
    watches: createRuntimeWatchHub({
      store,
      log,
      deltas,
      workers,
      limits,
      accepting: () => gate.status === 'running',
      findRun: async (worker_id, run_id) => void (await getRun(ctx, worker_id, run_id, {})),
    }),
  };
  report = (diagnostic) => recordLateDiagnostic(ctx, diagnostic);
  try {
    const plan = planRecovery({ snapshot, log, runtime_id, now: clock.iso() });
    log.event(plan.records, 'runtime_started', `runtime ${runtime_id} started`, {
      data: { version: VERSION, store: store.kind },
    });
    await log.commit(plan.records, plan.changes);
    for (const state of plan.resume) void executor.pump(state);
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return ctx;
}

/** Records a diagnostic the store raised after opening; best effort (never while closing). */
function recordLateDiagnostic(ctx: RuntimeContext, diagnostic: Diagnostic): void {
  if (ctx.gate.status !== 'running' || ctx.log.failure) return;
  const records: StoreRecord[] = [];
  ctx.log.recordDiagnostic(records, diagnostic);
  ctx.log.commit(records).catch(() => undefined);
}

/**
 * Closes a Runtime: refuses new mutations, records `runtime_stopping`, interrupts active runs
 * (queued ones stay queued for the next open), lets engines release what they hold, answers
 * long-polls, and releases the store.
 */
export async function closeRuntime(ctx: RuntimeContext, grace_ms: number): Promise<void> {
  const { log, executor, gate } = ctx;
  gate.status = 'closing';
  executor.shutdown();
  const records: StoreRecord[] = [];
  log.event(records, 'runtime_stopping', `runtime ${ctx.runtime_id} is stopping`);
  await log.commit(records).catch(() => undefined);
  const finishing: Promise<void>[] = [];
  for (const state of ctx.workers.values()) {
    const active = state.active;
    if (!active) continue;
    executor.abort(
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
  await log.drained();
  // Every durable event is published by now: watches yield what they hold and end.
  ctx.watches.closeAll();
  // Engines release what they hold (tool servers…) once no run uses them; a failure is theirs.
  await Promise.all([...new Set(ctx.engines)].map((engine) => engine.close?.().catch(() => undefined)));
  log.changes.close();
  gate.status = 'closed';
  await ctx.store.close();
}
