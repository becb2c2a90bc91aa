import {
  type InputAck,
  isRuntimeError,
  RuntimeError,
  type RuntimeEvent,
  type WatchDeltaItem,
  type WatchItem,
} from '@worker-runtime/core';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** One item of an input stream: the ack first, then the run's events and deltas. */
export type InputStreamItem = { readonly type: 'ack'; readonly ack: InputAck } | WatchItem;

/** How a client stream reconnects after the connection drops or the server restarts. */
export interface ReconnectOptions {
  /** Consecutive failed connection attempts before the stream gives up and throws (default 10). */
  attempts?: number;
  /** First wait before reconnecting, in ms (default: the server's `retry:`, 1000). */
  min_delay_ms?: number;
  /** Longest wait between attempts; each failure doubles the wait up to it (default 5000). */
  max_delay_ms?: number;
}

/** Opens one connection; `last_event_id` is the last event yielded (undefined before any). */
export type StreamConnect = (last_event_id: number | undefined, signal: AbortSignal) => Promise<Response>;

/** What {@link readStream} needs besides how to connect. */
export interface StreamPlan {
  /** The first connection (e.g. the input POST); later ones use `reconnect`. */
  connect: StreamConnect;
  /** How to reconnect after a drop; null: the stream cannot resume (it ends with the first connection). */
  reconnect: (first: InputAck | null) => StreamConnect | null;
  /** Resume after this event id from the start. */
  last_event_id?: number | undefined;
  /** A run stream ends after the run's terminal event; an events stream only when stopped. */
  ends_with_run: boolean;
  signal?: AbortSignal | undefined;
  retry: ReconnectOptions;
  /** An input stream: ending before its ack is an error (the caller cannot know what happened). */
  requires_ack: boolean;
  /** Turns a non-2xx response into the error to throw. */
  toError(response: Response): Promise<RuntimeError>;
}

const RUN_END_KINDS: ReadonlySet<string> = new Set([
  'run_completed',
  'run_failed',
  'run_cancelled',
  'run_timed_out',
  'run_interrupted',
]);

/** Statuses (0: no response) worth another attempt: the server restarting, closing, or full. */
function transient(error: unknown): boolean {
  if (!isRuntimeError(error)) return false;
  const status = (error as RuntimeError & { status?: number }).status;
  return status === 0 || status === 502 || status === 503 || status === 504;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Keeps a reply's deltas exact across reconnects: a reconnect starts with a catch-up delta holding
 * the entry's text so far (offset 0); only the part not yielded yet is passed on, at its offset.
 */
class DeltaLedger {
  readonly #streamed = new Map<string, { entry: number; length: number }>();

  /** The part of `delta` not yielded before, or null when there is none. */
  take(delta: WatchDeltaItem): WatchDeltaItem | null {
    const key = `${delta.worker_ref.worker_id}\u0000${delta.run_id}`;
    const seen = this.#streamed.get(key);
    const known = seen && seen.entry === delta.entry ? seen.length : 0;
    if (seen && seen.entry > delta.entry) return null;
    const end = delta.offset + delta.content.length;
    if (end <= known) return null;
    this.#streamed.set(key, { entry: delta.entry, length: end });
    if (delta.offset >= known) return delta;
    return { ...delta, offset: known, content: delta.content.slice(known - delta.offset) };
  }

  /** Forgets a run once it ended. */
  ended(event: RuntimeEvent): void {
    if (event.worker_ref && event.run_id) this.#streamed.delete(`${event.worker_ref.worker_id}\u0000${event.run_id}`);
  }
}

function parseData(message: EventSourceMessage): unknown {
  try {
    return JSON.parse(message.data);
  } catch (cause) {
    throw new RuntimeError('internal', 'the server sent a stream message that is not JSON', { cause });
  }
}

/**
 * Reads a Runtime event stream as items, reconnecting with `Last-Event-ID` after a drop (backing
 * off, at most `attempts` failures in a row) and yielding each event once (ids at or below the
 * last one are skipped) and each delta's text once. Ends after the run's terminal event (run
 * streams), when the signal aborts, or when the loop breaks.
 */
export async function* readStream(plan: StreamPlan): AsyncGenerator<InputStreamItem, void, undefined> {
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  plan.signal?.addEventListener('abort', onAbort, { once: true });
  if (plan.signal?.aborted) stop.abort();
  const attempts = plan.retry.attempts ?? 10;
  const maxDelay = plan.retry.max_delay_ms ?? 5000;
  let baseDelay = plan.retry.min_delay_ms;
  let lastId = plan.last_event_id;
  let connect: StreamConnect | null = plan.connect;
  let ack: InputAck | null = null;
  let failures = 0;
  let first = true;
  const ledger = new DeltaLedger();
  try {
    while (connect !== null && !stop.signal.aborted) {
      if (!first) {
        await sleep(Math.min(maxDelay, (baseDelay ?? 1000) * 2 ** Math.max(0, failures - 1)), stop.signal);
        if (stop.signal.aborted) return;
      }
      const initial = first;
      first = false;
      let response: Response;
      try {
        response = await connect(lastId, stop.signal);
        if (!response.ok) throw await plan.toError(response);
      } catch (error) {
        if (stop.signal.aborted) return;
        // The first request is the caller's (e.g. the input POST): its errors are answers, not drops.
        if (initial || !transient(error) || ++failures >= attempts) throw error;
        continue;
      }
      const messages: EventSourceMessage[] = [];
      const parser = createParser({
        onEvent: (message) => messages.push(message),
        onRetry: (ms) => {
          baseDelay ??= ms;
        },
      });
      const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          let chunk: Awaited<ReturnType<typeof reader.read>>;
          try {
            chunk = await reader.read();
          } catch {
            break; // the connection dropped: reconnect
          }
          if (chunk.done) break;
          parser.feed(chunk.value);
          while (messages.length > 0) {
            const message = messages.shift() as EventSourceMessage;
            const data = parseData(message);
            failures = 0;
            if (message.event === 'ack') {
              ack = data as InputAck;
              yield { type: 'ack', ack };
              continue;
            }
            if (message.event === 'output_delta') {
              const delta = ledger.take({ type: 'delta', ...(data as Omit<WatchDeltaItem, 'type'>) });
              if (delta) yield delta;
              continue;
            }
            if (message.id === undefined) continue;
            const event = data as RuntimeEvent;
            if (lastId !== undefined && event.id <= lastId) continue;
            lastId = event.id;
            yield { type: 'event', event };
            if (RUN_END_KINDS.has(event.kind)) {
              ledger.ended(event);
              if (plan.ends_with_run) return;
            }
          }
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      connect = plan.reconnect(ack);
    }
    if (plan.requires_ack && ack === null && !stop.signal.aborted) {
      throw new RuntimeError('runtime_unavailable', 'the stream ended before the input was acknowledged');
    }
  } finally {
    plan.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}
