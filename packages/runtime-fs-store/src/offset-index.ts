import { readAt } from './file-io.js';
import type { FsLike } from './fs-like.js';

/**
 * Index files (`*.idx`) hold one fixed-width decimal number per line: zero-padded to 15 digits plus
 * a newline. Entry `i` sits at byte `16 * i`, so any page is found with one positioned read, and the
 * file stays readable with `cat`.
 */
export const INDEX_WIDTH = 16;

/** One index line for `value`. */
export function indexEntry(value: number): string {
  return `${String(value).padStart(INDEX_WIDTH - 1, '0')}\n`;
}

/** Writes the index line for `value` (as {@link indexEntry} spells it) into `buffer` at `offset`, without making a string. */
export function writeIndexEntry(buffer: Uint8Array, offset: number, value: number): void {
  buffer[offset + INDEX_WIDTH - 1] = 0x0a;
  let i = offset + INDEX_WIDTH - 2;
  // Small values (the common case) fit an int32, where `| 0` divides without a float round trip.
  for (let rest = value; i >= offset; i--) {
    const digit = rest % 10;
    buffer[i] = 0x30 + digit;
    rest = rest < 0x7fffffff ? (rest / 10) | 0 : (rest - digit) / 10;
    if (rest === 0) break;
  }
  for (i--; i >= offset; i--) buffer[i] = 0x30;
}

/** Index entries `[from, from + count)` of an open index file. */
export async function readIndex(fs: FsLike, fd: number, from: number, count: number): Promise<number[]> {
  if (count <= 0) return [];
  const raw = await readAt(fs, fd, from * INDEX_WIDTH, count * INDEX_WIDTH);
  const values: number[] = [];
  for (let i = 0; i + INDEX_WIDTH <= raw.length; i += INDEX_WIDTH) {
    values.push(Number(raw.toString('latin1', i, i + INDEX_WIDTH - 1)));
  }
  return values;
}

/**
 * Lines `[start, end)` of a JSONL file whose index holds each line's end offset. Reads only those
 * index entries and those bytes. A line that is empty (a gap left by a skipped record) comes back
 * `''`. Returns null when the index does not frame whole lines (an entry that is not a number,
 * goes backwards, or ends a line anywhere but after its newline): the index is damaged.
 */
export async function readIndexedLines(
  fs: FsLike,
  files: { data: number; index: number },
  start: number,
  end: number,
): Promise<string[] | null> {
  if (end <= start) return [];
  const from = start === 0 ? 0 : start - 1;
  const offsets = await readIndex(fs, files.index, from, end - from);
  const ends = start === 0 ? offsets : offsets.slice(1);
  const first = start === 0 ? 0 : (offsets[0] ?? 0);
  const last = ends[ends.length - 1] ?? first;
  if (ends.length !== end - start) return [];
  if (!offsets.every((offset, i) => Number.isSafeInteger(offset) && offset >= (offsets[i - 1] ?? 0))) return null;
  const raw = await readAt(fs, files.data, first, last - first);
  const lines: string[] = [];
  let position = first;
  for (const lineEnd of ends) {
    const slice = raw.subarray(position - first, lineEnd - first);
    if (slice.length > 0 && (slice[slice.length - 1] !== 10 || slice.indexOf(10) !== slice.length - 1)) {
      // Past the end of a data file that was cut short the slice is short: that is lost data, not a bad index.
      if (lineEnd - first > raw.length) lines.push(slice.toString('utf8'));
      else return null;
    } else lines.push(slice.toString('utf8', 0, Math.max(0, slice.length - 1)));
    position = lineEnd;
  }
  return lines;
}

/** The first position in a sorted id index whose value is greater than `after` (binary search). */
export async function searchIndex(fs: FsLike, fd: number, count: number, after: number): Promise<number> {
  let low = 0;
  let high = count;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const [value = 0] = await readIndex(fs, fd, middle, 1);
    if (value > after) high = middle;
    else low = middle + 1;
  }
  return low;
}
