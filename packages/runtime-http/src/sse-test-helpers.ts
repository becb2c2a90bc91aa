import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** One thing read from an event stream: a message, a comment, or a `retry:` field. */
export type SseRead =
  | { kind: 'message'; event: string | undefined; id: string | undefined; data: string }
  | { kind: 'comment'; text: string }
  | { kind: 'retry'; ms: number };

/** An open event stream read message by message (parsed with eventsource-parser, as the client does). */
export interface SseReader {
  /** The next read, or null at the end of the stream. */
  next(): Promise<SseRead | null>;
  /** The next message (comments and `retry:` skipped), or null at the end. */
  message(): Promise<Extract<SseRead, { kind: 'message' }> | null>;
  /** Every message until the stream ends. */
  rest(): Promise<Array<Extract<SseRead, { kind: 'message' }>>>;
  /** Drops the connection. */
  cancel(): Promise<void>;
}

/** Reads the body of a `text/event-stream` response. */
export function sseReader(response: Response): SseReader {
  const queue: SseRead[] = [];
  const parser = createParser({
    onEvent: (m: EventSourceMessage) => queue.push({ kind: 'message', event: m.event, id: m.id, data: m.data }),
    onComment: (text) => queue.push({ kind: 'comment', text }),
    onRetry: (ms) => queue.push({ kind: 'retry', ms }),
  });
  const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  let ended = false;
  async function next(): Promise<SseRead | null> {
    while (queue.length === 0) {
      if (ended) return null;
      const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (chunk.done) ended = true;
      else parser.feed(chunk.value);
    }
    return queue.shift() as SseRead;
  }
  async function message(): Promise<Extract<SseRead, { kind: 'message' }> | null> {
    for (;;) {
      const read = await next();
      if (read === null || read.kind === 'message') return read;
    }
  }
  return {
    next,
    message,
    async rest() {
      const all: Array<Extract<SseRead, { kind: 'message' }>> = [];
      for (let m = await message(); m !== null; m = await message()) all.push(m);
      return all;
    },
    cancel: () => reader.cancel().catch(() => undefined),
  };
}

/** The text of a run's deltas placed at their offsets (a catch-up delta starts the entry over). */
export function placeDeltas(deltas: ReadonlyArray<{ entry: number; offset: number; content: string }>): string[] {
  const entries: string[] = [];
  for (const delta of deltas) {
    const before = (entries[delta.entry] ?? '').slice(0, delta.offset);
    entries[delta.entry] = before + delta.content;
  }
  return entries;
}
