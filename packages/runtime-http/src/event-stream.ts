import { SSEStreamingApi } from 'hono/streaming';

/**
 * Writes one `text/event-stream`: `writeSSE({ event, data, id, retry })` frames a message (Hono's
 * framing, the same on both transports), `write(': keep-alive\n\n')` sends a comment. Each write
 * resolves once the consumer has taken the bytes, so a producer that awaits its writes is paced
 * by the slowest link (the client's socket); one that must not wait counts the bytes of writes not
 * yet resolved and calls `abort()` past its limit, which ends the response at once, dropping what
 * is queued (the client resumes with `Last-Event-ID`).
 */
export type EventStreamWriter = Pick<SSEStreamingApi, 'writeSSE' | 'write' | 'abort'>;

/**
 * A route's event-stream answer: writes messages until it returns. `signal` aborts when the
 * client goes away or the server shuts down; the stream ends when the producer returns or throws
 * (a throw after the first byte is logged as `internal`: the status is already sent).
 */
export type EventStreamProducer = (stream: EventStreamWriter, signal: AbortSignal) => Promise<void>;

/** The headers of every event-stream reply, besides `x-request-id`. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
});

// Each stream's "ended early" signal (client gone, producer abort(), server shutdown), by body.
const ENDED = new WeakMap<ReadableStream<Uint8Array>, AbortSignal>();

/**
 * Aborted once an event-stream body was cut off (the producer called `abort()`, the server shut
 * down, or the client went away) rather than finished: a transport stuck writing to a reader that
 * does not read drops the connection then instead of waiting for it. Undefined for other bodies.
 */
export function eventStreamCutOff(body: ReadableStream<Uint8Array>): AbortSignal | undefined {
  return ENDED.get(body);
}

/**
 * Runs `produce` and returns its bytes as a pull-based web stream, which both transports send as
 * is (Hono as a `Response` body, the node listener by writing to the socket with backpressure).
 */
export function runEventStream(
  produce: EventStreamProducer,
  { signal, onError }: { signal: AbortSignal | undefined; onError(error: unknown): void },
): ReadableStream<Uint8Array> {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const stream = new SSEStreamingApi(writable, readable);
  const ended = new AbortController();
  const end = (): void => ended.abort();
  // The consumer cancelling the body (client gone) aborts the stream API, and so the producer.
  stream.onAbort(end);
  signal?.addEventListener('abort', end, { once: true });
  if (signal?.aborted) end();
  void (async function pump() {
    try {
      await produce(stream, ended.signal);
    } catch (error) {
      if (!ended.signal.aborted) onError(error);
    } finally {
      signal?.removeEventListener('abort', end);
      await stream.close();
    }
  })();
  ENDED.set(stream.responseReadable, ended.signal);
  return stream.responseReadable;
}
