/** Thrown when an event-stream line grows past the reader's limit. */
export class SseLineTooLongError extends Error {
  override readonly name = 'SseLineTooLongError';
}

/**
 * Reads a `text/event-stream` body and yields the `data` of each event (multi-line data joined by
 * `\n`). Comments (`: keep-alive`) and other fields (`event:`, `id:`, `retry:`) are skipped. A line
 * longer than `maxLineLength` characters throws {@link SseLineTooLongError}, so a broken server
 * cannot fill memory.
 */
export async function* readSseData(
  body: ReadableStream<Uint8Array>,
  { maxLineLength = 4 * 1024 * 1024 }: { maxLineLength?: number } = {},
): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // At the end, complete the last line; before it, a trailing '\r' may be half of a split '\r\n'.
      if (done) buffer = `${buffer.replace(/\r$/, '')}\n`;
      const lines = buffer.split(/\r\n|\r(?!$)|\n/);
      buffer = lines.pop() ?? '';
      if (buffer.length > maxLineLength) throw new SseLineTooLongError('an event-stream line is too long');
      for (const line of lines) {
        if (line === '') {
          if (data.length > 0) yield data.join('\n');
          data = [];
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
        }
      }
      if (done) {
        if (data.length > 0) yield data.join('\n');
        return;
      }
    }
  } finally {
    // Stopping early (an error, a malformed event, an abort) must release the connection.
    await reader.cancel().catch(() => undefined);
  }
}
