import type { ServerResponse } from 'node:http';
import { SSEStreamingApi } from 'hono/streaming';

/** One SSE message: `event:`, `data:` (split into one `data:` line per line), `id:`, `retry:`. */
export interface EventStreamMessage {
  data: string;
  event?: string;
  id?: string;
  retry?: number;
}

/**
 * Writes one `text/event-stream`: `writeSSE({ event, data, id, retry })` frames a message (Hono's
 * framing, the same on both transports), `write(': keep-alive\n\n')` sends raw bytes. Each write
 * resolves once the transport can take more (the consumer took the bytes, or the socket has room),
 * so a producer that awaits its writes is paced by the slowest link (the client's socket); one that must not wait calls `abort()` when it gives
 * up, which ends the response at once, dropping what is queued (the client resumes with `Last-Event-ID`).
 * `write` may return `undefined` instead of a promise: the bytes are taken and there is room, so
 * nothing to wait for (the node transport's common case; a hot loop skips an `await` per write).
 */
export interface EventStreamWriter {
  write(input: string | Uint8Array): Promise<unknown> | undefined;
  writeSSE(message: EventStreamMessage): Promise<void>;
  abort(): void;
}

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

const ABORTED = AbortSignal.abort();

/** The bytes Hono's `writeSSE` writes for `message`, so the node transport sends the same frames. */
export function sseFrame(message: EventStreamMessage): string {
  for (const key of ['event', 'id'] as const) {
    const value = message[key];
    if (value && /[\r\n]/.test(value)) throw new Error(`${key} must not contain "\\r" or "\\n"`);
  }
  const lines = message.data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}`)
    .join('\n');
  return `${[
    message.event && `event: ${message.event}`,
    lines,
    message.id !== undefined && `id: ${message.id}`,
    message.retry !== undefined && `retry: ${message.retry}`,
  ]
    .filter(Boolean)
    .join('\n')}\n\n`;
}

/**
 * The body of an event-stream reply: a producer not yet started, which each transport runs its
 * own way — as a web stream for Hono (`toReadable`), straight onto the `ServerResponse` for the
 * node listener (`sendTo`: no web streams between the producer and the socket, which cost ~30 %
 * of the server's time with 500 readers, docs/performance.md).
 */
export class EventStream {
  readonly #produce: EventStreamProducer;
  readonly #signal: AbortSignal | undefined;
  readonly #onError: (error: unknown) => void;

  constructor(
    produce: EventStreamProducer,
    { signal, onError }: { signal: AbortSignal | undefined; onError(error: unknown): void },
  ) {
    this.#produce = produce;
    this.#signal = signal;
    this.#onError = onError;
  }

  /** Runs the producer already aborted, so it releases what the handler opened for it (nobody reads). */
  discard(): void {
    new EventStream(this.#produce, { signal: ABORTED, onError: this.#onError })
      .toReadable()
      .cancel()
      .catch(() => undefined);
  }

  /** The producer's bytes as a pull-based web stream (a `Response` body). */
  toReadable(): ReadableStream<Uint8Array> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const stream = new SSEStreamingApi(writable, readable);
    const ended = new AbortController();
    // The consumer cancelling the body (client gone) aborts the stream API, and so the producer.
    stream.onAbort(() => ended.abort());
    void this.#run(stream, ended, () => stream.close());
    return stream.responseReadable;
  }

  /** Sends the producer's bytes on `outgoing` (status and headers already written). */
  sendTo(outgoing: ServerResponse): void {
    const ended = new AbortController();
    const writer = new ResponseWriter(outgoing, ended);
    void this.#run(writer, ended, () => writer.close());
  }

  async #run(writer: EventStreamWriter, ended: AbortController, close: () => Promise<void> | void): Promise<void> {
    const signal = this.#signal;
    const end = (): void => ended.abort();
    signal?.addEventListener('abort', end, { once: true });
    if (signal?.aborted) end();
    try {
      await this.#produce(writer, ended.signal);
    } catch (error) {
      if (!ended.signal.aborted) this.#onError(error);
    } finally {
      signal?.removeEventListener('abort', end);
      await close();
    }
  }
}

/** Writers with bytes queued this turn: one microtask flushes them all (not one per stream). */
let dirty: ResponseWriter[] = [];

function flushDirty(): void {
  const writers = dirty;
  dirty = [];
  for (const writer of writers) writer.flush();
}

/**
 * An {@link EventStreamWriter} onto a `ServerResponse`. Writes made in one turn are queued and
 * handed to the socket together at the end of the turn (one corked `writev` per stream, all streams
 * in one microtask). A write is taken at once (`undefined`: nothing to wait for) while the socket
 * has room; once its buffer is full, writes stay queued here and resolve on `drain`, so a producer
 * awaiting its writes is paced by the reader and at most one turn of writes sits past a full
 * socket. `abort()` (or the client going away, or shutdown) drops what is queued.
 */
class ResponseWriter implements EventStreamWriter {
  readonly #outgoing: ServerResponse;
  readonly #ended: AbortController;
  #queue: (string | Uint8Array)[] = [];
  #scheduled = false;
  #waiting = false;
  #settle: (() => void) | null = null;
  #taken: Promise<void> | null = null;
  // The signal's `aborted`, as a field: read on every write, per reader.
  #stopped = false;

  constructor(outgoing: ServerResponse, ended: AbortController) {
    this.#outgoing = outgoing;
    this.#ended = ended;
    const stop = (): void => this.#stop();
    outgoing.once('close', () => ended.abort());
    ended.signal.addEventListener('abort', stop, { once: true });
    outgoing.on('drain', () => {
      this.#waiting = false;
      this.flush();
    });
  }

  write(input: string | Uint8Array): Promise<void> | undefined {
    if (this.#stopped) return undefined;
    this.#queue.push(input);
    // The socket is full: this write waits for `drain` (and so does the producer awaiting it).
    if (this.#waiting) {
      this.#taken ??= new Promise<void>((resolve) => {
        this.#settle = resolve;
      });
      return this.#taken;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      if (dirty.push(this) === 1) queueMicrotask(flushDirty);
    }
    // Room on the socket: taken at the end of this turn, no promise per write per reader.
    return undefined;
  }

  async writeSSE(message: EventStreamMessage): Promise<void> {
    await this.write(sseFrame(message));
  }

  abort(): void {
    this.#ended.abort();
  }

  /** Ends the response once the producer is done: what is queued is sent first, unless cut off. */
  close(): void {
    const outgoing = this.#outgoing;
    if (outgoing.destroyed) return;
    // Cut off while its reader does not read (a slow consumer, shutdown): drop the connection
    // rather than wait for a reader that may never come back.
    if (this.#ended.signal.aborted) {
      if (outgoing.writableNeedDrain) outgoing.destroy();
      else outgoing.end();
      return;
    }
    this.#waiting = false;
    this.flush();
    outgoing.end();
  }

  /** Hands what is queued to the socket in one corked write (at once: no `nextTick` uncork). */
  flush(): void {
    this.#scheduled = false;
    if (this.#waiting) return;
    if (this.#queue.length === 0) {
      this.#release();
      return;
    }
    const outgoing = this.#outgoing;
    const queue = this.#queue;
    this.#queue = [];
    let room = true;
    if (!outgoing.destroyed) {
      outgoing.cork();
      for (const chunk of queue) room = outgoing.write(chunk);
      outgoing.uncork();
    }
    if (room || outgoing.destroyed) this.#release();
    else this.#waiting = true;
  }

  #release(): void {
    const settle = this.#settle;
    this.#settle = null;
    this.#taken = null;
    settle?.();
  }

  #stop(): void {
    this.#stopped = true;
    this.#queue = [];
    this.#waiting = false;
    this.#release();
  }
}
