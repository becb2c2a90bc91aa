import type * as v from 'valibot';
import type { CommitLog } from './commit-log.js';
import { RuntimeError } from './errors.js';
import type { RunExecutor } from './run-executor.js';
import type { InputAck, InputRequestSchema } from './schemas/input.js';
import type { StoreRecord } from './store.js';
import { type WorkerState, workerStatus } from './worker-state.js';

/** A validated input. */
export type ParsedInput = v.InferOutput<typeof InputRequestSchema>;

/** What accepting an input needs from the Runtime. */
export interface AcceptanceContext {
  log: CommitLog;
  executor: RunExecutor;
  max_queued_inputs: number;
}

function withIdempotency(
  records: StoreRecord[],
  state: WorkerState,
  input: ParsedInput,
  fingerprint: string,
  ack: InputAck,
): void {
  if (input.idempotency_key === undefined) return;
  records.push({
    type: 'idempotency',
    record: { worker_id: state.record.worker_id, key: input.idempotency_key, fingerprint, ack },
  });
}

/** Appends a `system` input to the transcript (no run) in one durable batch. Call under the worker lock. */
export async function acceptSystemInput(
  ctx: AcceptanceContext,
  state: WorkerState,
  input: ParsedInput,
  fingerprint: string,
): Promise<InputAck> {
  const worker_id = state.record.worker_id;
  const records: StoreRecord[] = [];
  const event_id = ctx.log.event(records, 'worker_input_accepted', `system input accepted by worker ${worker_id}`, {
    worker_id,
    data: { input_kind: 'system', idempotency_key: input.idempotency_key ?? null },
  });
  const sequence = ctx.log.entry(records, state, 'system', input.content, null);
  const ack: InputAck = {
    worker_ref: { ...state.ref },
    status: workerStatus(state),
    run_id: null,
    run_status: null,
    transcript_sequence: sequence,
    queue_position: null,
    event_id,
    replayed: false,
  };
  withIdempotency(records, state, input, fingerprint, ack);
  await ctx.log.commit(records, () => {
    state.transcript_len = sequence;
  });
  return ack;
}

/**
 * Queues a `user` input behind the active run in one durable batch. Call under the worker lock.
 * @throws RuntimeError `queue_full`
 */
export async function acceptAndQueue(
  ctx: AcceptanceContext,
  state: WorkerState,
  input: ParsedInput,
  fingerprint: string,
): Promise<InputAck> {
  const worker_id = state.record.worker_id;
  if (state.queue.length >= ctx.max_queued_inputs) {
    throw new RuntimeError('queue_full', `worker ${worker_id} already has ${state.queue.length} queued inputs`, {
      details: { max_queued_inputs: ctx.max_queued_inputs },
    });
  }
  const run = ctx.executor.newRun(input.idempotency_key);
  const records: StoreRecord[] = [];
  const event_id = ctx.log.event(records, 'worker_input_accepted', `input accepted by worker ${worker_id} and queued`, {
    worker_id,
    run_id: run.run_id,
    data: { input_kind: 'user', on_busy: 'enqueue', idempotency_key: input.idempotency_key ?? null },
  });
  const pending = { content: input.content, timeout_ms: input.timeout_ms ?? null };
  records.push({ type: 'run', run: { worker_id, run, input: pending } });
  const queue_position = state.queue.length + 1;
  ctx.log.event(records, 'run_queued', `run ${run.run_id} queued at position ${queue_position}`, {
    worker_id,
    run_id: run.run_id,
    data: { queue_position },
  });
  const ack: InputAck = {
    worker_ref: { ...state.ref },
    status: workerStatus(state),
    run_id: run.run_id,
    run_status: 'queued',
    transcript_sequence: null,
    queue_position,
    event_id,
    replayed: false,
  };
  withIdempotency(records, state, input, fingerprint, ack);
  await ctx.log.commit(records, () => {
    state.queue.push({ record: run, input: pending });
  });
  return ack;
}

/** Starts a run for a `user` input on a free worker in one durable batch, then launches its engine. Call under the worker lock. */
export async function acceptAndStart(
  ctx: AcceptanceContext,
  state: WorkerState,
  input: ParsedInput,
  on_busy: string,
  fingerprint: string,
): Promise<InputAck> {
  const worker_id = state.record.worker_id;
  const queued = ctx.executor.newRun(input.idempotency_key);
  const records: StoreRecord[] = [];
  const event_id = ctx.log.event(records, 'worker_input_accepted', `input accepted by worker ${worker_id}`, {
    worker_id,
    run_id: queued.run_id,
    data: { input_kind: 'user', on_busy, idempotency_key: input.idempotency_key ?? null },
  });
  const pending = { record: queued, input: { content: input.content, timeout_ms: input.timeout_ms ?? null } };
  const active = ctx.executor.start(records, state, pending);
  const ack: InputAck = {
    worker_ref: { ...state.ref },
    status: 'running',
    run_id: active.record.run_id,
    run_status: 'running',
    transcript_sequence: active.record.input_sequence,
    queue_position: null,
    event_id,
    replayed: false,
  };
  withIdempotency(records, state, input, fingerprint, ack);
  await ctx.log.commit(records, () => ctx.executor.activate(state, active));
  ctx.executor.launch(state, active, pending.input);
  return ack;
}
