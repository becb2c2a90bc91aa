import { describe, expect, test } from 'vitest';
import { TextOutput } from './text-output.js';

function feed(chunks: (string | Buffer)[]): { pieces: string[]; entry: string } {
  const output = new TextOutput();
  const pieces = chunks.map((chunk) => output.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
  pieces.push(output.end());
  return { pieces, entry: output.text };
}

describe('TextOutput', () => {
  test('emits each chunk as it comes; together the pieces are the entry without its final newline', () => {
    const { pieces, entry } = feed(['line 1\nli', 'ne 2\n']);
    expect(pieces).toEqual(['line 1\nli', 'ne 2', '']);
    expect(entry).toBe('line 1\nline 2');
  });

  test('a newline is held back only until more output follows it', () => {
    expect(feed(['a\n', 'b\r', '\nc\r\n']).pieces).toEqual(['a', '\nb', '\r\nc', '']);
    expect(feed(['a\r']).entry).toBe('a\r');
    expect(feed(['a\n\n']).entry).toBe('a\n');
  });

  test('a character split across chunks is emitted whole', () => {
    const bytes = Buffer.from('wörld ✓');
    const { pieces, entry } = feed([bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9)]);
    expect(pieces).toEqual(['w', 'örld ', '✓', '']);
    expect(entry).toBe('wörld ✓');
  });

  test('an incomplete character at the end becomes a replacement character, in the entry too', () => {
    const { pieces, entry } = feed([Buffer.from([0x61, 0xe2, 0x9c])]);
    expect(pieces.join('')).toBe(entry);
    expect(entry).toBe('a\ufffd');
  });
});
