import {
  isRuntimeError,
  RuntimeError,
  type Watch,
  type WatchItem,
  type WatchOptions,
  watchItemData,
} from '@worker-runtime/core';
import type { EventStreamProducer, EventStreamWriter } from './event-stream.js';
import type { RouteContext } from './route.js';

/** How long a stream may stay silent before a `: keep-alive` comment (SPEC §12). */
export const KEEP_ALIVE_MS = 15_000;

/** What clients wait before reconnecting, sent once as `retry:` at the start of every stream. */
const RETRY_MS = 1000;

/** A message written before the watch's items (the input ack). */
export interface StreamPrelude {
  event: string;
  data: string;
}

/**
 * The `Last-Event-ID` header as a cursor, or undefined when absent.
 * @throws RuntimeError `invalid_request` when it is not a non-negative integer
 */
export function lastEventId(context: RouteContext): number | undefined {
  const raw = context.header('last-event-id');
  if (raw === undefined || raw.trim() === '') return undefined;
  const id = /^[0-9]{1,16}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(id)) {
    throw new RuntimeError('invalid_request', 'Last-Event-ID must be an event id (a non-negative integer)', {
      details: { issues: [{ path: 'Last-Event-ID', message: 'must be a non-negative integer' }] },
    });
  }
  return id;
}

/**
 * Opens a watch and waits until it is established, so its errors (`cursor_expired`,
 * `too_many_streams`, `run_not_found`, …) are answered as JSON before any stream byte.
 * The server shutting down ends it.
 */
export async function openWatch(context: RouteContext, options: Omit<WatchOptions, 'signal'>): Promise<Watch> {
  const watch = context.runtime.watch({ ...options, ...(context.signal ? { signal: context.signal } : {}) });
  await watch.ready();
  return watch;
}

/** Writes one watch item as an SSE message: events with their id and kind, deltas as `output_delta`. */
function writeItem(stream: EventStreamWriter, item: WatchItem): Promise<unknown> {
  const data = watchItemData(item);
  if (item.type === 'event') return stream.writeSSE({ id: String(item.event.id), event: item.event.kind, data });
  return stream.writeSSE({ event: 'output_delta', data });
}

/**
 * The event-stream producer of a watch: `retry:`, the prelude, then every item as it comes, each
 * write awaited (so the producer goes at the reader's pace while the watch buffers, bounded, in
 * core). A reader that falls `max_stream_buffer_bytes` behind (`slow_consumer`) is cut off; the
 * client resumes with `Last-Event-ID`. The stream ends when the watch does (run ended, runtime
 * closed) or the client goes away, which ends the watch: nothing is cancelled.
 */
export function watchProducer(
  watch: Watch | null,
  { keepAliveMs, prelude }: { keepAliveMs: number; prelude?: StreamPrelude },
): EventStreamProducer {
  return async function produceWatch(stream, signal) {
    const stop = (): void => void watch?.return();
    signal.addEventListener('abort', stop, { once: true });
    let writing = 0;
    const tracked = async (write: Promise<unknown>): Promise<void> => {
      writing++;
      try {
        await write;
      } finally {
        writing--;
      }
    };
    // A comment only when nothing is on its way: a stuck reader gets no pile of comments.
    const keepAlive = setInterval(() => {
      if (writing === 0) void tracked(stream.write(': keep-alive\n\n'));
    }, keepAliveMs);
    try {
      if (signal.aborted) return;
      await tracked(stream.write(`retry: ${RETRY_MS}\n\n`));
      if (prelude) await tracked(stream.writeSSE(prelude));
      if (!watch) return;
      for (;;) {
        let result: IteratorResult<WatchItem, undefined>;
        try {
          result = await watch.next();
        } catch (error) {
          // slow_consumer (or a replay the store could not finish): end the response at once.
          stream.abort();
          if (isRuntimeError(error)) return;
          throw error;
        }
        if (result.done) return;
        await tracked(writeItem(stream, result.value));
      }
    } finally {
      clearInterval(keepAlive);
      signal.removeEventListener('abort', stop);
      stop();
    }
  };
}
