import { describe, expect, test } from 'vitest';
import { INDEX_WIDTH, indexEntry, writeIndexEntry } from './offset-index.js';

describe('index entries', () => {
  test('writeIndexEntry writes the bytes indexEntry spells, at the offset given', () => {
    const values = [0, 7, 4096, 123_456_789, 999_999_999_999_999];
    const buffer = Buffer.alloc(3 + values.length * INDEX_WIDTH, 0x2e);
    for (const [i, value] of values.entries()) writeIndexEntry(buffer, 3 + i * INDEX_WIDTH, value);
    expect(buffer.toString('latin1')).toBe(`...${values.map(indexEntry).join('')}`);
  });
});
