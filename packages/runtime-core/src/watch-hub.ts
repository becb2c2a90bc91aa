import { RuntimeError } from './errors.js';
import { assertValidId } from './identity.js';
import type { RuntimeEvent } from './schemas/event.js';
import { type OutputDelta, type WatchQuery, WatchQuerySchema } from './schemas/stream.js';
import { parseOrThrow } from './validation.js';
import { Watch } from './watch.js';
import { deepFreeze, watchItemData } from './watch-items.js';
import type { EventReplaySource, WatchScope } from './watch-start.js';

/** `Runtime#watch` options: the query, and a signal that ends the watch when aborted. */
export interface WatchOptions extends WatchQuery {
  signal?: AbortSignal;
}

/** What the hub needs from the Runtime. */
export interface WatchHubOptions {
  /** Replays durable events (the store). */
  source: EventReplaySource;
  /** The id of the newest durable event that listeners have been given. */
  lastEventId: () => number;
  /** Live durable events, in id order, each once. */
  subscribeEvents: (listener: (event: RuntimeEvent) => void) => () => void;
  /** Live output deltas. */
  subscribeDeltas: (listener: (delta: OutputDelta) => void) => () => void;
  /** The text so far of each entry in progress in scope (offset 0), for catch-up. */
  catchUp: (scope: WatchScope) => OutputDelta[];
  /** Run scope: checks the worker and run exist. @throws RuntimeError `worker_not_found`, `run_not_found` */
  findRun: (worker_id: string, run_id: string) => Promise<void>;
  /** Run scope: true while the run is queued or running. */
  runLive: (worker_id: string, run_id: string) => boolean;
  /** False once the Runtime is closing: no new watches. */
  accepting: () => boolean;
  limits: { max_streams: number; max_stream_buffer_bytes: number; max_event_batch: number };
}

/** Replay batches: large enough to be cheap, small enough to hold per consumer. */
const REPLAY_BATCH = 256;

/**
 * Opens watches and fans live events and deltas out to them. Subscribes to the Runtime once (while
 * any watch is open), sizes and freezes each item once, and never waits for a consumer.
 */
export class WatchHub {
  readonly #options: WatchHubOptions;
  readonly #watches = new Set<Watch>();
  #unsubscribe: (() => void) | null = null;

  constructor(options: WatchHubOptions) {
    this.#options = options;
  }

  /** Open watches. */
  get size(): number {
    return this.#watches.size;
  }

  /** A new watch; errors (bad query, too many streams, closing) surface from its `ready()` and first `next()`. */
  open(options: WatchOptions = {}): Watch {
    try {
      return this.#open(options);
    } catch (error) {
      return new Watch(null, error);
    }
  }

  /** Ends every watch: each yields what it buffered, then is done. */
  closeAll(): void {
    for (const watch of [...this.#watches]) watch.close();
  }

  #open(options: WatchOptions): Watch {
    const { signal, ...query } = options;
    if (query.worker_id !== undefined) assertValidId(query.worker_id, 'worker_id');
    if (query.run_id !== undefined) assertValidId(query.run_id, 'run_id');
    const q = parseOrThrow(WatchQuerySchema, query, 'watch options');
    if (q.run_id !== undefined && q.worker_id === undefined) {
      throw new RuntimeError('invalid_request', 'a run is watched through its worker: give worker_id with run_id', {
        details: { issues: [{ path: 'worker_id', message: 'required with run_id' }] },
      });
    }
    const o = this.#options;
    if (!o.accepting()) throw new RuntimeError('runtime_unavailable', 'the runtime is shutting down');
    if (this.#watches.size >= o.limits.max_streams) {
      throw new RuntimeError('too_many_streams', `${o.limits.max_streams} streams are already open`, {
        details: { max_streams: o.limits.max_streams },
      });
    }
    // From here to the end of the method nothing awaits: the subscription, the watermark and the
    // catch-up snapshot describe one instant, which is what makes replay + live gap-free.
    const watermark = o.lastEventId();
    if (q.after !== undefined && q.after > watermark) {
      throw new RuntimeError(
        'invalid_request',
        `cursor ${q.after} is ahead of the event log (last event ${watermark})`,
        {
          details: { last_event_id: watermark },
        },
      );
    }
    const scope = {
      ...(q.worker_id !== undefined ? { worker_id: q.worker_id } : {}),
      ...(q.run_id !== undefined ? { run_id: q.run_id } : {}),
    };
    const run =
      q.worker_id !== undefined && q.run_id !== undefined ? { worker_id: q.worker_id, run_id: q.run_id } : null;
    this.#subscribe();
    let watch: Watch | null = null;
    watch = new Watch({
      scope,
      source: o.source,
      after: q.after ?? watermark,
      from_oldest: q.after === 0,
      watermark,
      batch: Math.min(REPLAY_BATCH, o.limits.max_event_batch),
      max_buffer_bytes: o.limits.max_stream_buffer_bytes,
      catch_up: o.catchUp(scope),
      run_ended: run !== null && !o.runLive(run.worker_id, run.run_id),
      verify: () => (run ? o.findRun(run.worker_id, run.run_id) : Promise.resolve()),
      signal,
      detach: () => {
        if (watch) this.#watches.delete(watch);
        if (this.#watches.size === 0) this.#release();
      },
      overflow: () =>
        new RuntimeError(
          'slow_consumer',
          `the consumer fell more than ${o.limits.max_stream_buffer_bytes} bytes behind; resume from the last event id`,
          { details: { max_stream_buffer_bytes: o.limits.max_stream_buffer_bytes } },
        ),
    });
    if (!watch.ended) this.#watches.add(watch);
    else this.#release();
    return watch;
  }

  #subscribe(): void {
    if (this.#unsubscribe) return;
    const events = this.#options.subscribeEvents((event) => {
      const item = deepFreeze({ type: 'event' as const, event });
      const bytes = Buffer.byteLength(watchItemData(item));
      for (const watch of this.#watches) watch.offer(item, bytes);
    });
    const deltas = this.#options.subscribeDeltas((delta) => {
      const item = deepFreeze({ type: 'delta' as const, ...delta });
      const bytes = Buffer.byteLength(watchItemData(item));
      for (const watch of this.#watches) watch.offer(item, bytes);
    });
    this.#unsubscribe = () => {
      events();
      deltas();
    };
  }

  #release(): void {
    if (this.#watches.size > 0 || !this.#unsubscribe) return;
    this.#unsubscribe();
    this.#unsubscribe = null;
  }
}
