import {
  isRuntimeError,
  RuntimeError,
  type Watch,
  type WatchItem,
  type WatchOptions,
  watchItemData,
} from '@worker-runtime/core';
import type { EventStreamProducer } from './event-stream.js';
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
 * `too_many_streams`, `run_not_found`, …) are answered as JSON before any stream byte. The
 * producer ends it (also when the server shuts down before the producer runs: it then starts aborted).
 */
export async function openWatch(context: RouteContext, options: Omit<WatchOptions, 'signal'>): Promise<Watch> {
  const watch = context.runtime.watch(options);
  await watch.ready();
  return watch;
}

// The SSE frame of each live item, encoded once: a live item is one object shared by every stream.
const frames = new WeakMap<WatchItem, Uint8Array>();
// The last one asked for: every stream asks for the same item in a row (no WeakMap lookup each).
let lastItem: WatchItem | null = null;
let lastFrame: Uint8Array = Buffer.alloc(0);

/**
 * The SSE message of a watch item: events with `event: <kind>`, `data:` and `id:`, deltas as
 * `event: output_delta` without an id. The same framing as Hono's `writeSSE` (the data is JSON,
 * one line), built and encoded once per item instead of once per stream: with 500 readers,
 * `writeSSE` per stream cost most of the fan-out time (docs/performance.md, sse_fanout).
 */
function frameOf(item: WatchItem): Uint8Array {
  if (item === lastItem) return lastFrame;
  let frame = frames.get(item);
  if (frame === undefined) {
    const data = watchItemData(item);
    const text =
      item.type === 'event'
        ? `event: ${item.event.kind}\ndata: ${data}\nid: ${item.event.id}\n\n`
        : `event: output_delta\ndata: ${data}\n\n`;
    // A Buffer, not a plain Uint8Array: `res.write` would wrap a Uint8Array again per reader.
    frame = Buffer.from(text);
    frames.set(item, frame);
  }
  lastItem = item;
  lastFrame = frame;
  return frame;
}

let dueAtTurnEnd: (() => void)[] = [];

function runTurnEnd(): void {
  const tasks = dueAtTurnEnd;
  dueAtTurnEnd = [];
  for (const task of tasks) task();
}

const scheduleTurnEnd = (): void => void setImmediate(runTurnEnd);

/**
 * Runs `task` at the end of this turn of the event loop (one `setImmediate` for every stream's
 * task), so a stream woken by a live item writes it together with whatever else arrives in the
 * same turn (deltas of several runs, events of one commit) in one socket write, not one per item.
 * The `setImmediate` is taken once the current callback is done, so it also comes after the
 * immediates that callback queued (an engine that emits a delta per turn gets two in one write).
 */
function atTurnEnd(task: () => void): void {
  if (dueAtTurnEnd.push(task) === 1) queueMicrotask(scheduleTurnEnd);
}

/**
 * The frame of `first` and of every item the watch already holds after it, as one write: a reader
 * that fell behind gets its backlog in one socket write, not one write per item.
 */
function framesFrom(watch: Watch, first: WatchItem): Uint8Array {
  const frame = frameOf(first);
  let item = watch.take();
  if (item === undefined) return frame;
  const parts = [frame];
  for (; item !== undefined; item = watch.take()) parts.push(frameOf(item));
  return Buffer.concat(parts);
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
    const tracked = async (write: Promise<unknown> | undefined): Promise<void> => {
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
      // The live phase runs on callbacks, without a promise per item: the watch calls `ready` when
      // an item arrives, and at the end of that turn `pump` writes all it holds and re-arms.
      let live: { resolve: () => void; reject: (error: unknown) => void } | null = null;
      const ready = (): void => atTurnEnd(pump);
      const pump = (): void => {
        const item = watch.take();
        if (item !== undefined) {
          const write = stream.write(framesFrom(watch, item));
          if (write !== undefined) {
            // A full socket: the watch buffers (bounded) until the reader took these bytes.
            writing++;
            write.then(
              () => {
                writing--;
                pump();
              },
              (error: unknown) => {
                writing--;
                live?.reject(error);
              },
            );
            return;
          }
        }
        // Ended or failed: the loop below asks next() what happened.
        if (!watch.notify(ready)) live?.resolve();
      };
      for (;;) {
        let item = watch.take();
        if (item === undefined) {
          if (watch.notify(ready)) {
            await new Promise<void>((resolve, reject) => {
              live = { resolve, reject };
            });
            continue;
          }
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
          item = result.value;
        }
        // Inline rather than tracked(), and no await while the socket has room.
        const write = stream.write(framesFrom(watch, item));
        if (write !== undefined) {
          writing++;
          try {
            await write;
          } finally {
            writing--;
          }
        }
      }
    } finally {
      clearInterval(keepAlive);
      signal.removeEventListener('abort', stop);
      stop();
    }
  };
}
