import { constants } from 'node:fs';
import { dirname } from 'node:path';
import type { StoreRecord } from '@worker-runtime/core';
import * as v from 'valibot';
import { fsyncPath, readAt, writeAll } from './file-io.js';
import { JournalLineSchema } from './file-schemas.js';
import type { FsLike } from './fs-like.js';

/** One committed batch as the journal holds it. */
export interface JournalBatch {
  batch: number;
  records: readonly StoreRecord[];
  /** JSON of each record's value, when the batch was serialized at commit (see `serializeBatch`). */
  values?: readonly string[];
  /**
   * Where `values` are in the journal's bytes, when the append was all ASCII (so characters are
   * bytes): value `i` is `bytes[base + offsets[i], base + offsets[i] + values[i].length)`. Log
   * lines are then copied from there rather than encoded again.
   */
  encoded?: { bytes: Buffer; base: number; offsets: readonly number[] };
}

/** What {@link Journal.append} wrote. */
export interface JournalAppend {
  /** The journal offset after the append. */
  journal_end: number;
  /** Resolves once the fdatasync covering the append returned (the commit point). */
  durable: Promise<void>;
  /** The bytes appended. */
  bytes: Buffer;
  /** Where each batch's `records` array starts in `bytes`; null when the text was not all ASCII. */
  starts: number[] | null;
}

/** What reading the journal found besides its batches. */
export interface JournalScan {
  batches: JournalBatch[];
  /** Bytes of a torn last line that were cut off (0 when the tail was clean). */
  torn_bytes: number;
  /** How many complete lines in the middle could not be read and were skipped. */
  corrupt_lines: number;
  /** Worker ids that the skipped lines still legibly name (for the diagnostic). */
  corrupt_workers: string[];
  /**
   * Whether the cut tail held a whole line (newline-terminated) that could not be read: damage,
   * not an interrupted append, so it may have held acknowledged batches.
   */
  tail_damaged: boolean;
}

/** The worker ids a damaged journal line still names legibly. */
function namedWorkers(text: string, into: string[]): void {
  for (const match of text.matchAll(/"worker_id":"([A-Za-z0-9][A-Za-z0-9._-]{0,127})"/g)) {
    const id = match[1] as string;
    if (!into.includes(id) && into.length < 10) into.push(id);
  }
}

function parseLine(text: string): JournalBatch | null {
  try {
    const parsed = v.safeParse(JournalLineSchema, JSON.parse(text));
    return parsed.success ? (parsed.output as JournalBatch) : null;
  } catch {
    return null;
  }
}

/**
 * The write-ahead journal (`journal.jsonl`): one line per committed batch, `{"batch":n,"records":[…]}`.
 * A group of batches is appended with one write and made durable with one `fdatasync`: that fsync
 * is the commit point. The journal is truncated after each checkpoint, so it stays short.
 */
export class Journal {
  readonly #fs: FsLike;
  readonly #path: string;
  #fd: number;
  #size: number;
  /** Bytes compaction dropped from the front: offsets handed out are `#dropped` + file position. */
  #dropped = 0;
  /** Appends' writes and compactions run one at a time. */
  #busy: Promise<unknown> = Promise.resolve();
  /** Fdatasyncs in flight (they overlap each other and later appends' writes). */
  readonly #syncing = new Set<Promise<void>>();

  private constructor(fs: FsLike, path: string, fd: number, size: number) {
    this.#fs = fs;
    this.#path = path;
    this.#fd = fd;
    this.#size = size;
  }

  /**
   * Opens (creating) the journal, reads every batch in it and repairs a torn tail by truncating
   * the file to its last complete, valid line.
   */
  static async open(fs: FsLike, path: string): Promise<{ journal: Journal; scan: JournalScan }> {
    const fd = await fs.open(path, constants.O_RDWR | constants.O_CREAT);
    try {
      const raw = await readAt(fs, fd, 0, await fs.fsize(fd));
      const scan: JournalScan = {
        batches: [],
        torn_bytes: 0,
        corrupt_lines: 0,
        corrupt_workers: [],
        tail_damaged: false,
      };
      const pending: string[] = [];
      let position = 0;
      let goodEnd = 0;
      let pendingCorrupt = 0;
      while (position < raw.length) {
        const newline = raw.indexOf(10, position);
        const end = newline === -1 ? raw.length : newline + 1;
        const parsed = newline === -1 ? null : parseLine(raw.toString('utf8', position, newline));
        if (parsed) {
          scan.batches.push(parsed);
          scan.corrupt_lines += pendingCorrupt;
          for (const id of pending.splice(0)) if (!scan.corrupt_workers.includes(id)) scan.corrupt_workers.push(id);
          pendingCorrupt = 0;
          scan.tail_damaged = false;
          goodEnd = end;
        } else {
          pendingCorrupt++;
          if (newline !== -1) scan.tail_damaged = true;
          namedWorkers(raw.toString('utf8', position, end), pending);
        }
        position = end;
      }
      // Unreadable lines with nothing valid after them are the torn tail of an interrupted append.
      if (goodEnd < raw.length) {
        scan.torn_bytes = raw.length - goodEnd;
        await fs.ftruncate(fd, goodEnd);
        await fs.fsync(fd);
      }
      return { journal: new Journal(fs, path, fd, goodEnd), scan };
    } catch (error) {
      await fs.close(fd).catch(() => undefined);
      throw error;
    }
  }

  /** Current length in bytes. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends the batches (appends are written one at a time, in call order) and starts their
   * fdatasync at once, without waiting for an earlier append's: two groups' fsyncs may be in flight
   * together, so the disk is not idle while the next group is being prepared. Resolves once the
   * bytes are written, with the journal offset after them (offsets keep growing across
   * compactions, see {@link compact}) and `durable`, which resolves once the fdatasync covering
   * them returned. When that fails, the bytes from this append on are cut off when possible (a
   * failed sync fails the store, so later appends are never acknowledged); if even that fails,
   * the next open truncates the torn tail.
   */
  append(batches: readonly { batch: number; parts: readonly string[] }[]): Promise<JournalAppend> {
    // `parts` are the batch's records, serialized once by `serializeBatch`. One string for the
    // whole append (one copy of every record), which is then encoded once.
    const starts: number[] = [];
    const pieces: string[] = [];
    let offset = 0;
    const add = (piece: string): void => {
      pieces.push(piece);
      offset += piece.length;
    };
    for (const { batch, parts } of batches) {
      add(`{"batch":${batch},"records":`);
      starts.push(offset);
      add('[');
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) add(',');
        add(parts[i] as string);
      }
      add(']}\n');
    }
    const text = pieces.join('');
    const buffer = Buffer.from(text, 'utf8');
    // Any character outside ASCII takes more than one byte, so equal lengths mean all ASCII.
    const ascii = buffer.length === text.length;
    return this.#exclusive(async () => {
      const start = this.#size;
      try {
        await writeAll(this.#fs, this.#fd, buffer, start);
      } catch (error) {
        await this.#fs.ftruncate(this.#fd, start).catch(() => undefined);
        throw error;
      }
      this.#size += buffer.length;
      const durable = this.#sync(start);
      // Whoever acknowledges the append awaits `durable`; a store that failed meanwhile never does.
      durable.catch(() => undefined);
      return { journal_end: this.#dropped + this.#size, durable, bytes: buffer, starts: ascii ? starts : null };
    });
  }

  /** One fdatasync of the journal, tracked so compaction never closes a descriptor being synced. */
  #sync(start: number): Promise<void> {
    const fd = this.#fd;
    const synced = this.#fs.fdatasync(fd).catch(async (error: unknown) => {
      if (fd === this.#fd && start < this.#size) {
        await this.#fs.ftruncate(fd, start).catch(() => undefined);
        this.#size = start;
      }
      throw error;
    });
    const tracked = synced.finally(() => this.#syncing.delete(tracked)).catch(() => undefined);
    this.#syncing.add(tracked);
    return synced;
  }

  /**
   * Drops everything before offset `end` (an {@link append} result: the batches a checkpoint made
   * durable elsewhere) and keeps what was appended after it. Emptied in place when nothing was;
   * else the rest is written to a temp file, fsynced and renamed over the journal, so a crash
   * leaves either the whole old journal or the new one.
   */
  compact(end: number): Promise<void> {
    return this.#exclusive(async () => {
      const from = end - this.#dropped;
      if (from >= this.#size) {
        await this.#fs.ftruncate(this.#fd, 0);
        await this.#fs.fsync(this.#fd);
      } else {
        const rest = await readAt(this.#fs, this.#fd, from, this.#size - from);
        const temp = `${this.#path}.tmp`;
        const fd = await this.#fs.open(temp, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC);
        try {
          await writeAll(this.#fs, fd, rest, 0);
          await this.#fs.fsync(fd);
          await this.#fs.rename(temp, this.#path);
          await fsyncPath(this.#fs, dirname(this.#path));
        } catch (error) {
          await this.#fs.close(fd).catch(() => undefined);
          throw error;
        }
        // An fdatasync still in flight on the old descriptor must finish before it is closed (its
        // bytes are in the new file too, written and fsynced above).
        await Promise.all(this.#syncing);
        await this.#fs.close(this.#fd).catch(() => undefined);
        this.#fd = fd;
      }
      this.#dropped += Math.min(from, this.#size);
      this.#size = Math.max(0, this.#size - from);
    });
  }

  async close(): Promise<void> {
    await this.#busy.catch(() => undefined);
    await Promise.all(this.#syncing);
    await this.#fs.close(this.#fd).catch(() => undefined);
  }

  #exclusive<T>(body: () => Promise<T>): Promise<T> {
    const result = this.#busy.then(body, body);
    this.#busy = result.catch(() => undefined);
    return result;
  }
}
