import { describe, expect, test } from 'vitest';
import { readSseData, SseLineTooLongError } from './sse-reader.js';

function body(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function collect(chunks: (string | Uint8Array)[], maxLineLength?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const data of readSseData(body(chunks), maxLineLength === undefined ? {} : { maxLineLength }))
    out.push(data);
  return out;
}

describe('readSseData', () => {
  test('yields the data of each event and skips comments and other fields', async () => {
    expect(
      await collect([': ping\n\n', 'event: message\nid: 7\ndata: {"a":1}\n\n', 'retry: 10\n\ndata:[DONE]\n\n']),
    ).toEqual(['{"a":1}', '[DONE]']);
  });

  test('joins multi-line data and accepts CRLF, CR and LF line ends', async () => {
    expect(await collect(['data: one\r\ndata: two\r\n\r\n', 'data: three\r\rdata: four\n\n'])).toEqual([
      'one\ntwo',
      'three',
      'four',
    ]);
  });

  test('reassembles lines and characters split across chunks, and a final event with no blank line', async () => {
    // Every byte on its own, so the two-byte 'é' is split too.
    const bytes = new TextEncoder().encode('data: héllo\n\ndata: last');
    expect(await collect([...bytes].map((byte) => new Uint8Array([byte])))).toEqual(['héllo', 'last']);
    expect(await collect(['data: a\r', '\n\r', '\ndata: b\n\n'])).toEqual(['a', 'b']);
  });

  test('refuses a line longer than the limit', async () => {
    await expect(collect(['data: ', 'x'.repeat(100)], 50)).rejects.toBeInstanceOf(SseLineTooLongError);
  });
});
