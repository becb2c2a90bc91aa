import { isRuntimeError } from './errors.js';
import type { RuntimeContext } from './runtime-context.js';
import { type ControlAck, type ControlRequest, ControlRequestSchema } from './schemas/input.js';
import type { StoreRecord, WorkerRecord } from './store.js';
import { parseOrThrow } from './validation.js';
import type { WorkerAddress } from './worker-address.js';
import { type WorkerState, workerStatus } from './worker-state.js';

/** The worker a cancel or stop names, and its reason; checked before anything changes. */
function target(
  ctx: RuntimeContext,
  worker: WorkerAddress,
  request: ControlRequest,
  what: string,
): { state: WorkerState; reason: string | undefined } {
  ctx.gate.assertWritable();
  const state = ctx.workers.get(worker);
  const { reason } = parseOrThrow(ControlRequestSchema, request ?? {}, what);
  return { state, reason };
}

/**
 * Cancels a worker's active run. Resolves once the engine stopped or after `limits.cancel_grace_ms`;
 * the run ends `cancelled` and the queue continues.
 */
export async function cancelWorker(
  ctx: RuntimeContext,
  worker: WorkerAddress,
  request: ControlRequest,
): Promise<ControlAck> {
  const { state, reason } = target(ctx, worker, request, 'cancel request');
  const active = await state.lock.run(async () => {
    const run = state.active;
    if (run && state.record.status !== 'stopped') {
      ctx.executor.abort(state, run, {
        status: 'cancelled',
        error: { code: 'cancelled', message: reason ?? 'cancelled by request' },
      });
    }
    return run;
  });
  if (active) await active.finished;
  return {
    worker_ref: { ...state.ref },
    status: workerStatus(state),
    run_id: active?.record.run_id ?? null,
    event_id: active?.end_event_id ?? null,
  };
}

/**
 * Stops a worker for good: cancels the active run and queued inputs, then marks it `stopped`.
 * Stopping a stopped worker answers the original `event_id` and changes nothing.
 */
export async function stopWorker(
  ctx: RuntimeContext,
  worker: WorkerAddress,
  request: ControlRequest,
): Promise<ControlAck> {
  const { state, reason } = target(ctx, worker, request, 'stop request');
  const message = reason ?? 'worker stopped';
  const active = await state.lock.run(async () => {
    if (state.record.status === 'stopped') return null;
    ctx.workers.setStopping(state, true);
    if (state.active) {
      ctx.executor.abort(state, state.active, { status: 'cancelled', error: { code: 'cancelled', message } });
    }
    return state.active;
  });
  if (active) await active.finished;
  const ack = await state.lock.run(async (): Promise<ControlAck & { changed: boolean }> => {
    const ref = { ...state.ref };
    if (state.record.status === 'stopped') {
      return {
        worker_ref: ref,
        status: 'stopped',
        run_id: null,
        event_id: state.record.stopped_event_id,
        changed: false,
      };
    }
    try {
      ctx.gate.assertWritable();
      const event_id = await commitStop(ctx, state, message);
      return { worker_ref: ref, status: 'stopped', run_id: active?.record.run_id ?? null, event_id, changed: true };
    } catch (error) {
      ctx.workers.setStopping(state, false);
      throw error;
    }
  });
  const { changed, ...answer } = ack;
  if (changed) void releaseWorker(ctx, state);
  return answer;
}

/** Commits the stop: queued runs cancelled, the worker record `stopped`. Returns the stop's event id. */
async function commitStop(ctx: RuntimeContext, state: WorkerState, message: string): Promise<number> {
  const { log } = ctx;
  const worker_id = state.record.worker_id;
  const records: StoreRecord[] = [];
  const now = ctx.clock.iso();
  const cancelled = state.queue.map((queued) => ({
    ...queued.record,
    status: 'cancelled' as const,
    ended_at: now,
    error: { code: 'cancelled', message },
  }));
  for (const run of cancelled) {
    records.push({ type: 'run', run: { worker_id, run, input: null } });
    log.event(records, 'run_cancelled', `queued run ${run.run_id} cancelled: ${message}`, {
      worker: state.ref,
      run_id: run.run_id,
    });
  }
  const event_id = log.nextEventId;
  const record: WorkerRecord = { ...state.record, status: 'stopped', stopped_event_id: event_id };
  records.push({ type: 'worker', worker: record });
  log.event(records, 'worker_stopped', `worker ${worker_id} stopped: ${message}`, {
    worker: state.ref,
    data: { reason: message },
  });
  const last_run = cancelled[cancelled.length - 1] ?? null;
  await log.commit(records, [{ kind: 'worker_stopped', state, record, last_run }]);
  return event_id;
}

/** Lets the worker's engine release what it holds for it; a failure becomes a warning diagnostic. */
async function releaseWorker(ctx: RuntimeContext, state: WorkerState): Promise<void> {
  let engine: ReturnType<typeof ctx.catalog.resolve>['engine'];
  try {
    engine = ctx.catalog.resolve(state.record.profile).engine;
  } catch {
    return;
  }
  if (!engine.releaseWorker) return;
  try {
    await engine.releaseWorker({ ...state.ref });
  } catch (error) {
    if (ctx.gate.status !== 'running' || ctx.log.failure) return;
    // An engine's own message may name paths; only a RuntimeError's message is known to be clean.
    const reason = isRuntimeError(error) ? error.message : 'it failed';
    const records: StoreRecord[] = [];
    ctx.log.diagnostic(
      records,
      'warning',
      'engine.release_failed',
      `engine "${engine.name}" could not release worker ${state.record.worker_id}: ${reason}`,
      state.ref,
    );
    await ctx.log.commit(records).catch(() => undefined);
  }
}
