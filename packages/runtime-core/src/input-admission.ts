import type * as v from 'valibot';
import { RuntimeError } from './errors.js';
import { Mutex } from './mutex.js';
import { idempotencyExpired } from './retention.js';
import type { RuntimeContext } from './runtime-context.js';
import { type InputAck, type InputRequest, InputRequestSchema } from './schemas/input.js';
import type { StoreRecord } from './store.js';
import { parseOrThrow } from './validation.js';
import type { WorkerAddress } from './worker-address.js';
import { type ActiveRun, type WorkerState, workerStatus } from './worker-state.js';

/** A validated input. */
type ParsedInput = v.InferOutput<typeof InputRequestSchema>;

/** An accepted input: its fingerprint (for idempotency) and busy policy resolved. */
interface Admitted extends ParsedInput {
  on_busy: NonNullable<ParsedInput['on_busy']>;
  fingerprint: string;
}

/** The ack of an input accepted now; only what differs between kinds is given. */
function ack(
  state: WorkerState,
  fields: Pick<InputAck, 'status' | 'run_id' | 'run_status' | 'transcript_sequence' | 'queue_position' | 'event_id'>,
): InputAck {
  return {
    worker_ref: { ...state.ref },
    status: fields.status,
    run_id: fields.run_id,
    run_status: fields.run_status,
    transcript_sequence: fields.transcript_sequence,
    queue_position: fields.queue_position,
    event_id: fields.event_id,
    replayed: false,
  };
}

function withIdempotency(
  ctx: RuntimeContext,
  records: StoreRecord[],
  state: WorkerState,
  input: Admitted,
  made: InputAck,
): void {
  if (input.idempotency_key === undefined) return;
  records.push({
    type: 'idempotency',
    record: {
      worker_id: state.record.worker_id,
      key: input.idempotency_key,
      fingerprint: input.fingerprint,
      ack: made,
      created_at: ctx.clock.iso(),
    },
  });
}

/**
 * Input admission: decides, under the worker's lock, what an input does (replay, append, start,
 * queue, reject, interrupt) and commits it in one durable batch. Interrupting inputs of one worker
 * take turns, so each either starts its run or gets a typed error, and at most one run is running.
 */
export class InputAdmission {
  readonly #ctx: RuntimeContext;
  /** Per worker, while interrupting inputs are waiting their turn (made on first use). */
  readonly #interruptTurns = new WeakMap<WorkerState, Mutex>();

  constructor(ctx: RuntimeContext) {
    this.#ctx = ctx;
  }

  /**
   * Sends input. A `user` input starts a run (or queues, rejects or interrupts per `on_busy`); a
   * `system` input is appended to the transcript without a run.
   * @throws RuntimeError `invalid_request`, `invalid_id`, `worker_not_found`, `worker_busy`, `queue_full`,
   *   `worker_stopped`, `idempotency_conflict`, `runtime_unavailable`, `store_unavailable`
   */
  async send(worker: WorkerAddress, request: InputRequest): Promise<InputAck> {
    const ctx = this.#ctx;
    ctx.gate.assertWritable();
    const state = ctx.workers.get(worker);
    const req = parseOrThrow(InputRequestSchema, request, 'input');
    const bytes = Buffer.byteLength(req.content, 'utf8');
    const max = ctx.limits.max_input_bytes;
    if (bytes > max) {
      throw new RuntimeError('invalid_request', `content is ${bytes} bytes; the limit is ${max}`, {
        details: { issues: [{ path: 'content', message: `must be at most ${max} bytes` }] },
      });
    }
    const on_busy = req.on_busy ?? 'reject';
    // valibot's output is a fresh object: completed in place rather than copied.
    const input = req as Admitted;
    input.on_busy = on_busy;
    // Only keyed inputs are ever compared.
    input.fingerprint =
      req.idempotency_key === undefined ? '' : JSON.stringify([req.kind, req.content, on_busy, req.timeout_ms ?? null]);
    if (input.kind === 'user' && on_busy === 'interrupt') return await this.#interrupt(state, input);
    // `return await`: resolving an async function's promise with another promise costs two more turns.
    return await state.lock.run(async () => {
      // An input without a key replays nothing: no store read.
      if (input.idempotency_key !== undefined) return (await this.#replay(state, input)) ?? this.#admit(state, input);
      this.#ctx.gate.assertWritable();
      return this.#admit(state, input);
    });
  }

  /** The original ack of an idempotent retry, or null for a new input. Call under the worker lock. */
  async #replay(state: WorkerState, input: Admitted): Promise<InputAck | null> {
    this.#ctx.gate.assertWritable();
    if (input.idempotency_key === undefined) return null;
    const previous = await this.#ctx.store.getIdempotency(state.record.worker_id, input.idempotency_key);
    // An expired key is a new input (retention.idempotency_ttl_ms); its new record replaces the old.
    if (!previous || idempotencyExpired(this.#ctx, previous.created_at)) return null;
    if (previous.fingerprint !== input.fingerprint) {
      throw new RuntimeError('idempotency_conflict', 'this idempotency_key was already used with a different input', {
        details: { idempotency_key: input.idempotency_key },
      });
    }
    return { ...previous.ack, replayed: true };
  }

  /** Appends, starts, queues or rejects a new input. Call under the worker lock. */
  #admit(state: WorkerState, input: Admitted): Promise<InputAck> {
    assertNotStopped(state);
    if (input.kind === 'system') return this.#appendSystem(state, input);
    const busy = state.active !== null || state.queue.length > 0 || state.interrupts_pending > 0;
    if (!busy) return this.#start(state, input);
    if (input.on_busy === 'enqueue') return this.#enqueue(state, input);
    throw new RuntimeError(
      'worker_busy',
      `worker ${state.record.worker_id} is busy with run ${state.active?.record.run_id ?? '(queued input)'}`,
      { details: { active_run_id: state.active?.record.run_id ?? null } },
    );
  }

  /**
   * `on_busy: interrupt`: aborts the active run, waits for it to end outside the worker lock, then
   * starts this input ahead of the queue. Interrupts of one worker take turns: the next one
   * interrupts the run this one started.
   */
  async #interrupt(state: WorkerState, input: Admitted): Promise<InputAck> {
    const { workers, executor } = this.#ctx;
    let turns = this.#interruptTurns.get(state);
    if (!turns) {
      turns = new Mutex();
      this.#interruptTurns.set(state, turns);
    }
    workers.interruptBegan(state);
    try {
      return await turns.run(async () => {
        for (;;) {
          const outcome = await state.lock.run(async (): Promise<InputAck | ActiveRun> => {
            const replayed = await this.#replay(state, input);
            if (replayed) return replayed;
            assertNotStopped(state);
            const active = state.active;
            if (!active) return this.#start(state, input);
            executor.abort(state, active, {
              status: 'cancelled',
              error: { code: 'cancelled', message: 'interrupted by a newer input' },
            });
            return active;
          });
          if (!('finished' in outcome)) return outcome;
          await outcome.finished;
        }
      });
    } finally {
      workers.interruptEnded(state);
      void executor.pump(state);
    }
  }

  /** Appends a `system` input to the transcript (no run). */
  async #appendSystem(state: WorkerState, input: Admitted): Promise<InputAck> {
    const { log } = this.#ctx;
    const worker_id = state.record.worker_id;
    const records: StoreRecord[] = [];
    const event_id = log.event(records, 'worker_input_accepted', `system input accepted by worker ${worker_id}`, {
      worker: state.ref,
      data: { input_kind: 'system', idempotency_key: input.idempotency_key ?? null },
    });
    const sequence = log.entry(records, state, 'system', input.content, null);
    const made = ack(state, {
      status: workerStatus(state),
      run_id: null,
      run_status: null,
      transcript_sequence: sequence,
      queue_position: null,
      event_id,
    });
    withIdempotency(this.#ctx, records, state, input, made);
    await log.commit(records, [{ kind: 'entry_appended', state, transcript_len: sequence }]);
    return made;
  }

  /**
   * Queues a `user` input behind the active run.
   * @throws RuntimeError `queue_full`
   */
  async #enqueue(state: WorkerState, input: Admitted): Promise<InputAck> {
    const { log, executor, limits } = this.#ctx;
    const worker_id = state.record.worker_id;
    if (state.queue.length >= limits.max_queued_inputs) {
      throw new RuntimeError('queue_full', `worker ${worker_id} already has ${state.queue.length} queued inputs`, {
        details: { max_queued_inputs: limits.max_queued_inputs },
      });
    }
    const run = executor.newRun(input.idempotency_key);
    const records: StoreRecord[] = [];
    const event_id = log.event(records, 'worker_input_accepted', `input accepted by worker ${worker_id} and queued`, {
      worker: state.ref,
      run_id: run.run_id,
      data: { input_kind: 'user', on_busy: 'enqueue', idempotency_key: input.idempotency_key ?? null },
    });
    const pending = { content: input.content, timeout_ms: input.timeout_ms ?? null };
    records.push({ type: 'run', run: { worker_id, run, input: pending } });
    const queue_position = state.queue.length + 1;
    log.event(records, 'run_queued', `run ${run.run_id} queued at position ${queue_position}`, {
      worker: state.ref,
      run_id: run.run_id,
      data: { queue_position },
    });
    const made = ack(state, {
      status: workerStatus(state),
      run_id: run.run_id,
      run_status: 'queued',
      transcript_sequence: null,
      queue_position,
      event_id,
    });
    withIdempotency(this.#ctx, records, state, input, made);
    await log.commit(records, [{ kind: 'run_queued', state, queued: { record: run, input: pending } }]);
    return made;
  }

  /** Starts a run for a `user` input on a free worker, then launches its engine. */
  async #start(state: WorkerState, input: Admitted): Promise<InputAck> {
    const { log, executor } = this.#ctx;
    const worker_id = state.record.worker_id;
    // One clock read for the whole batch (the run id and every timestamp).
    const millis = this.#ctx.clock.millis();
    const now = this.#ctx.clock.isoAt(millis);
    const queued = executor.newRun(input.idempotency_key, millis);
    const records: StoreRecord[] = [];
    const event_id = log.event(
      records,
      'worker_input_accepted',
      `input accepted by worker ${worker_id}`,
      {
        worker: state.ref,
        run_id: queued.run_id,
        data: { input_kind: 'user', on_busy: input.on_busy, idempotency_key: input.idempotency_key ?? null },
      },
      now,
    );
    const pending = { record: queued, input: { content: input.content, timeout_ms: input.timeout_ms ?? null } };
    const active = executor.start(records, state, pending, now);
    const made = ack(state, {
      status: 'running',
      run_id: active.record.run_id,
      run_status: 'running',
      transcript_sequence: active.record.input_sequence,
      queue_position: null,
      event_id,
    });
    withIdempotency(this.#ctx, records, state, input, made);
    await log.commit(records, [{ kind: 'run_started', state, active, dequeued: false }]);
    executor.launch(state, active, pending.input);
    return made;
  }
}

/** @throws RuntimeError `worker_stopped` when the worker is stopped or being stopped */
function assertNotStopped(state: WorkerState): void {
  if (state.record.status === 'stopped' || state.stopping) {
    throw new RuntimeError('worker_stopped', `worker ${state.record.worker_id} is stopped`);
  }
}
