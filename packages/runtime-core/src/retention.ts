import type { RuntimeContext } from './runtime-context.js';
import type { ResolvedRetention } from './schemas/retention.js';
import { deleteWorker } from './worker-deletion.js';

/**
 * The retention sweep (SPEC §13): every `sweep_interval_ms` it deletes stopped workers whose last
 * event (their stop) is older than `stopped_worker_ttl_ms`, and lets the store drop idempotency
 * records older than `idempotency_ttl_ms`. Its timer is unref'd (it never keeps a process alive);
 * it starts at open and stops at close. One pass at a time.
 */
export class RetentionSweep {
  readonly #retention: ResolvedRetention;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;

  constructor(retention: ResolvedRetention) {
    this.#retention = retention;
  }

  /** Starts the timer, once the Runtime has opened. */
  start(ctx: RuntimeContext): void {
    this.#timer = setInterval(() => {
      this.#running ??= this.sweep(ctx).finally(() => {
        this.#running = null;
      });
    }, this.#retention.sweep_interval_ms);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** One pass. Failures (closing, a store that stopped writing) end the pass; the next tick retries. */
  async sweep(ctx: RuntimeContext): Promise<void> {
    const now = ctx.clock.millis();
    const ttl = this.#retention.stopped_worker_ttl_ms;
    if (ttl !== undefined) {
      const expired = [...ctx.workers.values()].filter(
        (state) => state.record.status === 'stopped' && now - Date.parse(state.updated_at) >= ttl,
      );
      for (const state of expired) {
        if (ctx.gate.status !== 'running' || ctx.log.failure) return;
        await deleteWorker(ctx, { ...state.ref }, {}, 'stopped longer than retention.stopped_worker_ttl_ms').catch(
          () => undefined,
        );
      }
    }
    if (ctx.gate.status !== 'running' || !ctx.store.expireIdempotency) return;
    const before = new Date(now - this.#retention.idempotency_ttl_ms).toISOString();
    await ctx.store.expireIdempotency(before).catch(() => undefined);
  }
}

/** Whether an idempotency record made at `created_at` (absent: before the Runtime opened) has expired. */
export function idempotencyExpired(ctx: RuntimeContext, created_at: string | undefined): boolean {
  const made = Date.parse(created_at ?? ctx.started_at);
  return ctx.clock.millis() - made >= ctx.retention.idempotency_ttl_ms;
}
