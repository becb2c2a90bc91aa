import { isRuntimeError } from './errors.js';
import type { RuntimeEvent } from './schemas/event.js';
import { TERMINAL_RUN_STATUSES } from './schemas/run.js';
import type { OutputDelta, WatchItem } from './schemas/stream.js';
import { deepFreeze } from './watch-items.js';
import { WatchQueue } from './watch-queue.js';
import type { WatchStart } from './watch-start.js';

/** Kinds of the event that ends a run: `run_completed`, `run_failed`, … */
const RUN_END_KINDS: ReadonlySet<string> = new Set(TERMINAL_RUN_STATUSES.map((status) => `run_${status}`));

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** What {@link Watch}'s synchronous step says when it has no item: wait for a live one, or read a replay batch. */
const WAIT = 0;
const READ = 1;
type Step = WatchItem | null | typeof WAIT | typeof READ;

/**
 * One consumer's view of the runtime: the durable events after a cursor (replayed from the store in
 * batches), then one catch-up delta per entry in progress, then live events and deltas, each event
 * exactly once and in id order. Live items are buffered from the moment of subscription, so there
 * is no window between replay and live; the buffer is bounded and a consumer that falls too far
 * behind is ended with an error instead of slowing anything down.
 */
export class Watch implements AsyncIterableIterator<WatchItem> {
  readonly #start: WatchStart | null;
  #replay: RuntimeEvent[] = [];
  #replayIndex = 0;
  /** True once the store has nothing more to replay (what was read may still be yielded). */
  #replayDone: boolean;
  #readAfter: number;
  #firstRead = true;
  #catchUp: OutputDelta[];
  readonly #live = new WatchQueue();
  /** `open` takes items; `draining` (closed) yields what it has, then ends; `ended` yields nothing. */
  #state: 'open' | 'draining' | 'ended' = 'open';
  #error: unknown = null;
  #startError: unknown = null;
  /** Wakes the pending slow-path pull (replay phase, or a `next()` queued behind another). */
  #wake: (() => void) | null = null;
  /** The pending fast-path `next()`: settled right where an item arrives (`offer`), or the watch ends. */
  #waitResolve: ((result: IteratorResult<WatchItem, undefined>) => void) | null = null;
  #waitReject: ((error: unknown) => void) | null = null;
  /** Set by `notify()`: called once when the next live item arrives or the watch ends. */
  #notify: (() => void) | null = null;
  #detached = false;
  /** The id of the last event yielded: an event at or below it is never yielded again. */
  #lastId = 0;
  /** `next()` calls not settled yet; the fast path and `take()` only run when there are none. */
  #pending = 0;
  /** The last `next()` promise: a queued `next()` starts once it settled, so results keep call order. */
  #tail: Promise<unknown> = Promise.resolve();
  /** True once `#started` has settled. */
  #opened = false;
  readonly #started: Promise<void>;
  readonly #onAbort = (): void => this.#end();
  readonly #pullNext = (): Promise<IteratorResult<WatchItem, undefined>> => this.#pull();

  /** A watch over `start`, or (with `error`) one that fails before its first item. */
  constructor(start: WatchStart | null, error?: unknown) {
    this.#start = start;
    this.#replayDone = start === null || start.after >= start.watermark;
    this.#readAfter = start?.after ?? 0;
    this.#lastId = start?.after ?? 0;
    this.#catchUp = start ? [...start.catch_up] : [];
    if (!start) {
      this.#state = 'ended';
      this.#error = this.#startError = error;
      this.#started = Promise.resolve();
      this.#opened = true;
      return;
    }
    if (start.signal?.aborted) {
      this.#end();
      this.#started = Promise.resolve();
      this.#opened = true;
      return;
    }
    start.signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#started = this.#open(start);
  }

  /**
   * Resolves once the watch is established (the cursor is valid, the run exists), before any item;
   * rejects with the error the first `next()` would throw (`cursor_expired`, `run_not_found`, …).
   */
  async ready(): Promise<void> {
    await this.#started;
    if (this.#startError !== null) throw this.#startError;
  }

  /** True once the watch takes no more items. */
  get ended(): boolean {
    return this.#state !== 'open';
  }

  /** Hands the watch a live item (called for every item, shared by all watches; the watch filters). */
  offer(item: WatchItem, bytes: number): void {
    if (this.#state !== 'open') return;
    // A watch opened while an event is being published is handed that event too; replay covers it.
    if (item.type === 'event') {
      const event = item.event;
      if (event.id <= (this.#start as WatchStart).watermark) return;
      if (!this.#inScope(event.worker_ref?.worker_id, event.run_id)) return;
    } else if (!this.#inScope(item.worker_ref.worker_id, item.run_id)) return;
    this.#push(item, bytes);
  }

  /** Ends the watch because the runtime closes: what is buffered is still yielded, then it is done. */
  close(): void {
    if (this.#state !== 'open') return;
    // An unfinished replay cannot be completed (the store is closing); yielding the live items after
    // it would leave a gap, so the watch ends where the replay stopped.
    if (!this.#replayDone || this.#replayIndex < this.#replay.length) {
      this.#end();
      return;
    }
    this.#state = 'draining';
    this.#detach();
    this.#wakeUp();
  }

  next(): Promise<IteratorResult<WatchItem, undefined>> {
    // Fast path (the live phase, one consumer awaiting each item): no promise chain, and a wait is
    // one promise that `offer` settles itself. Anything else queues behind the pending calls.
    if (this.#pending === 0 && this.#opened) {
      let step: Step;
      try {
        step = this.#step();
      } catch (error) {
        return Promise.reject(error);
      }
      if (step === null) return Promise.resolve(DONE);
      if (step === WAIT) return this.#waitLive();
      if (step !== READ) return Promise.resolve({ done: false, value: step });
    }
    this.#pending++;
    const result = this.#tail.then(this.#pullNext, this.#pullNext);
    this.#tail = result;
    return result;
  }

  /**
   * The next item if one is ready now (replayed, catch-up or live), without waiting: a consumer
   * can take everything buffered in one synchronous step. `undefined` when there is none yet, while
   * a `next()` is pending, or once the watch has ended or failed; `next()` then waits, or says
   * done, or throws the error, as usual.
   */
  take(): WatchItem | undefined {
    if (this.#pending > 0 || !this.#opened || this.#error !== null) return undefined;
    const step = this.#step();
    return typeof step === 'object' && step !== null ? step : undefined;
  }

  /**
   * For a consumer that drains with `take()`: when the watch is waiting for live items (nothing to
   * take, replay and catch-up done, not ended, no `next()` pending), arms `callback` and returns
   * true; the watch calls it once, synchronously, when the next item arrives or the watch ends or
   * fails. Otherwise returns false at once: `take()` or `next()` has something to say. No promise
   * per item, so a server fanning one item out to many streams pays for none.
   */
  notify(callback: () => void): boolean {
    if (this.#pending > 0 || !this.#opened || this.#error !== null || this.#state !== 'open') return false;
    if (this.#replayIndex < this.#replay.length || !this.#replayDone || this.#catchUp.length > 0) return false;
    if ((this.#start as WatchStart).run_ended || !this.#live.empty) return false;
    this.#notify = callback;
    return true;
  }

  /** Stops the watch and releases its subscription at once. */
  async return(): Promise<IteratorResult<WatchItem, undefined>> {
    this.#end();
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async #open(start: WatchStart): Promise<void> {
    try {
      await start.verify();
      if (!this.#replayDone && this.#state === 'open') await this.#readBatch(start);
    } catch (error) {
      this.#fail(error);
    }
    if (this.#error !== null) this.#startError = this.#error;
    this.#opened = true;
  }

  async #pull(): Promise<IteratorResult<WatchItem, undefined>> {
    try {
      await this.#started;
      for (;;) {
        const step = this.#step();
        if (step === READ) await this.#readBatch(this.#start as WatchStart);
        else if (step === WAIT) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
        } else return step === null ? DONE : { done: false, value: step };
      }
    } finally {
      this.#pending--;
    }
  }

  /** A fast-path `next()` that has to wait: `#wakeUp` settles it. */
  #waitLive(): Promise<IteratorResult<WatchItem, undefined>> {
    this.#pending++;
    const result = new Promise<IteratorResult<WatchItem, undefined>>((resolve, reject) => {
      this.#waitResolve = resolve;
      this.#waitReject = reject;
    });
    this.#tail = result;
    return result;
  }

  /**
   * The next item without waiting, in order: the replay read so far, the catch-up deltas, the live
   * queue. `null` once the watch is done, `READ` when the replay needs the next batch, `WAIT` when
   * nothing is there yet. Throws the watch's error once.
   */
  #step(): Step {
    const start = this.#start as WatchStart;
    for (;;) {
      if (this.#error !== null) {
        const error = this.#error;
        this.#error = null;
        throw error;
      }
      if (this.#state === 'ended') return null;
      const event = this.#replay[this.#replayIndex];
      if (event !== undefined) {
        this.#replayIndex++;
        if (event.id <= this.#lastId) continue;
        return this.#yieldEvent(event);
      }
      if (!this.#replayDone) return READ;
      const delta = this.#catchUp.shift();
      if (delta) return deepFreeze({ type: 'delta', ...delta });
      if (start.run_ended) {
        this.#end();
        return null;
      }
      const item = this.#live.shift();
      if (item !== undefined) {
        if (item.type === 'delta') return item;
        if (item.event.id <= this.#lastId) continue;
        return this.#yieldEvent(item.event, item);
      }
      if (this.#state === 'draining') {
        this.#end();
        return null;
      }
      return WAIT;
    }
  }

  /** Yields an event; a run-scoped watch ends after its run's terminal event. */
  #yieldEvent(event: RuntimeEvent, item?: WatchItem): WatchItem {
    this.#lastId = event.id;
    if (this.#start?.scope.run_id !== undefined && RUN_END_KINDS.has(event.kind)) this.#end();
    return item ?? deepFreeze({ type: 'event', event });
  }

  async #readBatch(start: WatchStart): Promise<void> {
    let events: RuntimeEvent[];
    const first = this.#firstRead;
    this.#firstRead = false;
    try {
      events = await start.source.readEvents({
        after: this.#readAfter,
        limit: start.batch,
        ...(start.scope.worker_id !== undefined ? { worker_id: start.scope.worker_id } : {}),
      });
    } catch (error) {
      const oldest = isRuntimeError(error) && error.code === 'cursor_expired' ? error.details?.oldest_available : null;
      // Only the first read may skip ahead: later, skipping trimmed events would be a gap.
      if (first && start.from_oldest && typeof oldest === 'number' && oldest - 1 > this.#readAfter) {
        this.#readAfter = Math.min(oldest - 1, start.watermark);
        this.#replayDone = this.#readAfter >= start.watermark;
        this.#firstRead = true;
        return;
      }
      this.#fail(error);
      return;
    }
    const last = events[events.length - 1];
    // The store may already hold events past the watermark; those arrive live, so replay stops there.
    if (!last || last.id >= start.watermark) this.#replayDone = true;
    else this.#readAfter = last.id;
    this.#replay = events.filter(
      (event) =>
        event.id > start.after &&
        event.id <= start.watermark &&
        this.#inScope(event.worker_ref?.worker_id, event.run_id),
    );
    this.#replayIndex = 0;
    for (const event of this.#replay) deepFreeze(event);
  }

  #inScope(worker_id: string | undefined, run_id: string | undefined): boolean {
    const scope = (this.#start as WatchStart).scope;
    if (scope.worker_id !== undefined && worker_id !== scope.worker_id) return false;
    return scope.run_id === undefined || run_id === scope.run_id;
  }

  #push(item: WatchItem, bytes: number): void {
    const start = this.#start as WatchStart;
    if (this.#live.bytes + bytes > start.max_buffer_bytes) {
      this.#fail(start.overflow());
      return;
    }
    this.#live.push(item, bytes);
    this.#wakeUp();
  }

  /** Ends the watch with `error` (thrown by the next `next()`), dropping what it buffered. */
  #fail(error: unknown): void {
    if (this.#state === 'ended') return;
    this.#error = error;
    this.#end();
  }

  #end(): void {
    this.#state = 'ended';
    this.#live.clear();
    this.#replay = [];
    this.#catchUp = [];
    this.#detach();
    this.#wakeUp();
  }

  #detach(): void {
    const start = this.#start;
    if (!start || this.#detached) return;
    this.#detached = true;
    start.signal?.removeEventListener('abort', this.#onAbort);
    start.detach();
  }

  #wakeUp(): void {
    const notify = this.#notify;
    if (notify !== null) {
      this.#notify = null;
      try {
        notify();
      } catch (error) {
        // It runs inside whatever published the item: its failure must not keep the item from
        // the other watches, so it surfaces on its own, as an uncaught error.
        process.nextTick(() => {
          throw error;
        });
      }
    }
    const wake = this.#wake;
    if (wake !== null) {
      this.#wake = null;
      wake();
      return;
    }
    const resolve = this.#waitResolve;
    const reject = this.#waitReject;
    if (resolve === null || reject === null) return;
    // Cleared first: the step may end the watch, which wakes again.
    this.#waitResolve = this.#waitReject = null;
    let step: Step;
    try {
      step = this.#step();
    } catch (error) {
      this.#pending--;
      reject(error);
      return;
    }
    if (step === WAIT || step === READ) {
      this.#waitResolve = resolve;
      this.#waitReject = reject;
      return;
    }
    this.#pending--;
    resolve(step === null ? DONE : { done: false, value: step });
  }
}
