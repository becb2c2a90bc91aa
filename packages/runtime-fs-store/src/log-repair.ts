import { constants } from 'node:fs';
import { errnoCode, readAt, withFile, writeAll } from './file-io.js';
import type { FsLike } from './fs-like.js';
import { INDEX_WIDTH, indexEntry, readIndex } from './offset-index.js';
import type { LogSize } from './store-state.js';

// Open checks each log against the length its snapshot recorded (one size and at most one 16-byte
// read per file), and repairs what disagrees from the data itself. Logs are the truth; indexes and
// snapshots are derived from them and are rebuilt, never trusted over them.

/** The size of a file, or null when it does not exist. */
export function fileSize(fs: FsLike, path: string): Promise<number | null> {
  return fs.size(path);
}

/** Bytes `[0, length)` of a file (fewer if it is shorter; empty when it does not exist). */
export async function readPrefix(fs: FsLike, path: string, length: number): Promise<Buffer> {
  try {
    return await withFile(fs, path, constants.O_RDONLY, (fd) => readAt(fs, fd, 0, length));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return Buffer.alloc(0);
    throw error;
  }
}

/** Sets a file's length (creating it when missing) and fsyncs it. */
async function truncateTo(fs: FsLike, path: string, length: number): Promise<void> {
  await withFile(fs, path, constants.O_RDWR | constants.O_CREAT, async (fd) => {
    await fs.ftruncate(fd, length);
    await fs.fsync(fd);
  });
}

/** Writes `text` (ASCII) over bytes `[0, text.length)` of a file and cuts it there. */
export async function rewriteFile(fs: FsLike, path: string, text: string): Promise<void> {
  await withFile(fs, path, constants.O_RDWR | constants.O_CREAT, async (fd) => {
    const buffer = Buffer.from(text, 'latin1');
    await writeAll(fs, fd, buffer, 0);
    await fs.ftruncate(fd, buffer.length);
    await fs.fsync(fd);
  });
}

/** Writes `values` as the first entries of an index, leaving what follows them as it is. */
export async function writeIndexPrefix(fs: FsLike, path: string, values: readonly number[]): Promise<void> {
  await withFile(fs, path, constants.O_RDWR | constants.O_CREAT, async (fd) => {
    await writeAll(fs, fd, Buffer.from(values.map(indexEntry).join(''), 'latin1'), 0);
  });
}

/** The value of entry `count - 1` of an index, or null when the index is shorter or unreadable. */
async function lastEntry(fs: FsLike, path: string, count: number): Promise<number | null> {
  const size = await fileSize(fs, path);
  if (size === null || size < count * INDEX_WIDTH) return null;
  const [value] = await withFile(fs, path, constants.O_RDONLY, (fd) => readIndex(fs, fd, count - 1, 1));
  return value !== undefined && Number.isSafeInteger(value) ? value : null;
}

/** What a repair found. */
export interface LogRepair {
  /** The log's size afterwards. */
  size: LogSize;
  /** Bytes cut off the end of the data (an incomplete or missing tail). */
  cut: number;
  /** Positions left with no readable entry (their records are lost). */
  lost: number;
}

/**
 * Rebuilds an indexed log's index from its data, keeping `count` (so no key is ever handed out
 * twice): the data is cut to its last complete line within `limit` bytes, entry `k` ends where
 * the line with key `k` ends (a line whose key cannot be read takes the next position) and a
 * position with no line becomes an empty entry, which reads skip. O(bytes of the log).
 */
export async function rebuildIndex(
  fs: FsLike,
  paths: { data: string; index: string },
  count: number,
  limit: number,
  keyOf: (line: string) => number | null,
  options: { in_place?: boolean } = {},
): Promise<LogRepair> {
  const raw = await readPrefix(fs, paths.data, limit);
  const complete = raw.lastIndexOf(10) + 1;
  const ends: number[] = [];
  let placed = 0;
  let position = 0;
  while (position < complete) {
    const newline = raw.indexOf(10, position);
    const key = keyOf(raw.toString('utf8', position, newline)) ?? ends.length + 1;
    // Keys only grow; a line out of order is framed into the next entry and reported when read.
    if (key > ends.length && key <= count) {
      while (ends.length < key - 1) ends.push(ends.at(-1) ?? 0);
      ends.push(newline + 1);
      placed++;
    }
    position = newline + 1;
  }
  const bytes = ends.at(-1) ?? 0;
  while (ends.length < count) ends.push(bytes);
  if (options.in_place) {
    // While the store is open: only the entries already readable are rewritten, nothing is cut.
    await writeIndexPrefix(fs, paths.index, ends);
  } else {
    await rewriteFile(fs, paths.index, ends.map(indexEntry).join(''));
    await truncateTo(fs, paths.data, bytes);
  }
  return { size: { count, bytes }, cut: Math.max(0, limit - bytes), lost: count - placed };
}

/**
 * Checks an indexed log against its recorded size (index long enough, its entry `count` ends
 * where the data is recorded to end, the data that long) and rebuilds the index when not.
 * Returns null when it was consistent.
 */
export async function checkIndexedLog(
  fs: FsLike,
  paths: { data: string; index: string },
  recorded: LogSize,
  keyOf: (line: string) => number | null,
): Promise<LogRepair | null> {
  if (recorded.count === 0) return null;
  const dataSize = (await fileSize(fs, paths.data)) ?? 0;
  if (dataSize >= recorded.bytes && (await lastEntry(fs, paths.index, recorded.count)) === recorded.bytes) return null;
  return rebuildIndex(fs, paths, recorded.count, Math.min(dataSize, recorded.bytes), keyOf);
}

/**
 * Checks an append-only log (no index) that should be `bytes` long; when shorter (torn, deleted,
 * replaced), cuts it to its last complete line, so later appends start a fresh line. Returns the
 * new length, or null when it was long enough.
 */
export async function checkPlainLog(fs: FsLike, path: string, bytes: number): Promise<LogRepair | null> {
  const size = (await fileSize(fs, path)) ?? 0;
  if (size >= bytes) return null;
  const kept = await cutToLastLine(fs, path, size);
  return { size: { count: 0, bytes: kept }, cut: bytes - kept, lost: 0 };
}

/** Cuts a file of `size` bytes after its last newline (if it does not end in one); returns the kept length. */
export async function cutToLastLine(fs: FsLike, path: string, size: number): Promise<number> {
  if (size === 0) {
    // A missing log is made again (empty), so what is appended next has a file to go to.
    await truncateTo(fs, path, 0);
    return 0;
  }
  const kept = (await readPrefix(fs, path, size)).lastIndexOf(10) + 1;
  if (kept < size) await truncateTo(fs, path, kept);
  return kept;
}

/**
 * Checks a worker's `event-ids.idx` (`count` ids, the last one `last_id`); when it disagrees,
 * rebuilds it from the global event log (`events` lines, O(events)) with the ids naming the worker.
 */
export async function checkIdIndex(
  fs: FsLike,
  path: string,
  recorded: { count: number; last_id: number },
  eventIds: () => Promise<number[]>,
): Promise<number[] | null> {
  if (recorded.count === 0 || (await lastEntry(fs, path, recorded.count)) === recorded.last_id) return null;
  const ids = await eventIds();
  await rewriteFile(fs, path, ids.map(indexEntry).join(''));
  return ids;
}

/** What adopting a log's tail found. */
export interface Adopted {
  size: LogSize;
  /** Bytes past the last adopted line that were cut (an incomplete or unreadable tail). */
  torn: number;
  /** The index past the recorded end disagreed with the data (it was rewritten). */
  index_rewritten?: boolean;
}

/**
 * Bytes past a log's recorded end were written by journaled batches (files are written only after
 * the journal fsync), so complete lines there are acknowledged records even if the journal is lost.
 * Adopts the lines whose keys continue the log (replay skips keys already present), rewrites their
 * index entries and cuts whatever follows. O(bytes past the recorded end), bounded by a checkpoint.
 */
export async function adoptIndexedTail(
  fs: FsLike,
  paths: { data: string; index: string },
  recorded: LogSize,
  keyOf: (line: string) => number | null,
): Promise<Adopted | null> {
  const dataSize = (await fileSize(fs, paths.data)) ?? 0;
  const indexSize = (await fileSize(fs, paths.index)) ?? 0;
  if (dataSize <= recorded.bytes && indexSize <= recorded.count * INDEX_WIDTH) return null;
  const raw = (await readPrefix(fs, paths.data, dataSize)).subarray(recorded.bytes);
  let { count, bytes } = recorded;
  let entries = '';
  let position = 0;
  for (let newline = raw.indexOf(10); newline !== -1; newline = raw.indexOf(10, position)) {
    const key = keyOf(raw.toString('utf8', position, newline));
    if (key === null || key <= count) break;
    for (; count < key - 1; count++) entries += indexEntry(bytes);
    bytes = recorded.bytes + newline + 1;
    entries += indexEntry(bytes);
    count = key;
    position = newline + 1;
  }
  const index_rewritten = await withFile(fs, paths.index, constants.O_RDWR | constants.O_CREAT, async (fd) => {
    const from = recorded.count * INDEX_WIDTH;
    const before = await readAt(fs, fd, from, Math.max(0, indexSize - from));
    await writeAll(fs, fd, Buffer.from(entries, 'latin1'), from);
    await fs.ftruncate(fd, count * INDEX_WIDTH);
    return before.toString('latin1') !== entries;
  });
  await truncateTo(fs, paths.data, bytes);
  return { size: { count, bytes }, torn: dataSize - bytes, index_rewritten };
}

/** Like {@link adoptIndexedTail} for a log without an index: adopts the complete lines past `bytes`. */
export async function adoptPlainTail(fs: FsLike, path: string, bytes: number): Promise<Adopted | null> {
  const size = (await fileSize(fs, path)) ?? 0;
  if (size <= bytes) return null;
  const tail = await withFile(fs, path, constants.O_RDONLY, (fd) => readAt(fs, fd, bytes, size - bytes));
  const kept = bytes + tail.lastIndexOf(10) + 1;
  if (kept < size) await truncateTo(fs, path, kept);
  return { size: { count: 0, bytes: kept }, torn: size - kept };
}

/** Adopts the ids past entry `count` of an id index that continue it (ascending, at most `max_id`). */
export async function adoptIdTail(
  fs: FsLike,
  path: string,
  recorded: { count: number; last_id: number },
  max_id: number,
): Promise<{ count: number; last_id: number; torn: number } | null> {
  const size = (await fileSize(fs, path)) ?? 0;
  if (size <= recorded.count * INDEX_WIDTH) return null;
  const extra = await withFile(fs, path, constants.O_RDONLY, (fd) =>
    readIndex(fs, fd, recorded.count, Math.floor(size / INDEX_WIDTH) - recorded.count),
  );
  let { count, last_id } = recorded;
  for (const id of extra) {
    if (!Number.isSafeInteger(id) || id <= last_id || id > max_id) break;
    count++;
    last_id = id;
  }
  await truncateTo(fs, path, count * INDEX_WIDTH);
  return { count, last_id, torn: size - count * INDEX_WIDTH };
}
