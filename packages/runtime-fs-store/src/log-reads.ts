import { constants } from 'node:fs';
import * as v from 'valibot';
import { errnoCode, readAt, withFile } from './file-io.js';
import type { FsLike } from './fs-like.js';
import { readIndex, readIndexedLines, searchIndex } from './offset-index.js';

/** Called for each line that fails to parse or validate; the read goes on without it. */
export type CorruptLine = (what: string) => void;

/** Parses one JSON line against `schema`; null (reported) when it is not valid. */
export function parseLine<T>(
  schema: v.GenericSchema<unknown, T>,
  line: string,
  what: string,
  onCorrupt: CorruptLine,
): T | null {
  if (line === '') return null;
  try {
    const parsed = v.safeParse(schema, JSON.parse(line));
    if (parsed.success) return parsed.output;
  } catch {
    // Reported below, like a schema failure.
  }
  onCorrupt(what);
  return null;
}

/** Parses every line (see {@link parseLine}); the unreadable ones are reported and left out. */
export function parseLines<T>(
  schema: v.GenericSchema<unknown, T>,
  lines: readonly string[],
  what: (i: number) => string,
  onCorrupt: CorruptLine,
): T[] {
  const items: T[] = [];
  lines.forEach((line, i) => {
    const item = parseLine(schema, line, what(i), onCorrupt);
    if (item !== null) items.push(item);
  });
  return items;
}

/** Opens a data file and its index read-only for the duration of `body`; a missing file reads as empty. */
async function withIndexedLog<T>(
  fs: FsLike,
  paths: { data: string; index: string },
  empty: T,
  body: (files: { data: number; index: number }) => Promise<T>,
): Promise<T> {
  try {
    return await withFile(fs, paths.data, constants.O_RDONLY, (data) =>
      withFile(fs, paths.index, constants.O_RDONLY, (index) => body({ data, index })),
    );
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return empty;
    throw error;
  }
}

/** Lines `[start, end)` of an indexed log: O(end - start) bytes read; null when the index is damaged. */
export function readLines(
  fs: FsLike,
  paths: { data: string; index: string },
  start: number,
  end: number,
): Promise<string[] | null> {
  return withIndexedLog<string[] | null>(fs, paths, [], (files) => readIndexedLines(fs, files, start, end));
}

/**
 * Lines of the global event log for the events a worker's id index lists after `after` (at least
 * the log's `base`, the ids trimmed before it): a binary search in the worker's index, then one read
 * per run of consecutive ids. O(limit + log n).
 * Returns null when either index is damaged (ids that are not ascending numbers, lines misframed).
 */
export async function readLinesById(
  fs: FsLike,
  paths: { data: string; index: string; ids: string },
  query: { after: number; limit: number; id_count: number; max_id: number; base: number },
): Promise<string[] | null> {
  let ids: number[];
  try {
    ids = await withFile(fs, paths.ids, constants.O_RDONLY, async (fd) => {
      const from = await searchIndex(fs, fd, query.id_count, query.after);
      // The entry before the first one read must be at or before the cursor, or the search was misled.
      const [before] = from > 0 ? await readIndex(fs, fd, from - 1, 1) : [0];
      if (!Number.isSafeInteger(before) || (before as number) > query.after) return [Number.NaN];
      return readIndex(fs, fd, from, Math.min(query.limit, query.id_count - from));
    });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
  if (!ids.every((id, i) => Number.isSafeInteger(id) && id > (ids[i - 1] ?? query.after))) return null;
  ids = ids.filter((id) => id <= query.max_id);
  return withIndexedLog<string[] | null>(fs, paths, [], async (files) => {
    const lines: string[] = [];
    let i = 0;
    while (i < ids.length) {
      let j = i + 1;
      while (j < ids.length && ids[j] === (ids[j - 1] as number) + 1) j++;
      const first = ids[i] as number;
      // The data holds events `base + 1 ..`: ids map to slots `id - base`.
      const run = await readIndexedLines(fs, files, first - 1 - query.base, first - 1 - query.base + (j - i));
      if (run === null) return null;
      lines.push(...run);
      i = j;
    }
    return lines;
  });
}

/**
 * Calls `onLine` with every complete line of bytes `[from, to)` of a JSONL file and the offset
 * where it starts, reading 1 MiB at a time.
 */
export async function scanLines(
  fs: FsLike,
  path: string,
  from: number,
  to: number,
  onLine: (line: string, offset: number) => void,
): Promise<void> {
  if (to <= from) return;
  await withFile(fs, path, constants.O_RDONLY, async (fd) => {
    let position = from;
    let start = from;
    let carry = Buffer.alloc(0);
    while (position < to) {
      const chunk = await readAt(fs, fd, position, Math.min(1 << 20, to - position));
      if (chunk.length === 0) break;
      position += chunk.length;
      let data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      let newline = data.indexOf(10);
      while (newline !== -1) {
        onLine(data.toString('utf8', 0, newline), start);
        start += newline + 1;
        data = data.subarray(newline + 1);
        newline = data.indexOf(10);
      }
      carry = Buffer.from(data);
    }
  });
}

/** The line that starts at `offset` (without its newline), reading no further than `end`. */
export async function readLineAt(fs: FsLike, path: string, offset: number, end: number): Promise<string> {
  return withFile(fs, path, constants.O_RDONLY, async (fd) => {
    let length = Math.min(4096, end - offset);
    for (;;) {
      const raw = await readAt(fs, fd, offset, length);
      const newline = raw.indexOf(10);
      if (newline !== -1) return raw.toString('utf8', 0, newline);
      if (offset + length >= end || raw.length < length) return raw.toString('utf8');
      length = Math.min(length * 4, end - offset);
    }
  });
}
