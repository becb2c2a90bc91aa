import { constants } from 'node:fs';
import { sep } from 'node:path';
import { errnoCode, writeAll } from './file-io.js';
import type { FsLike } from './fs-like.js';
import { INDEX_WIDTH, writeIndexEntry } from './offset-index.js';

/**
 * What a written file belongs to (the store state, a worker unit). The writer sets bits on its
 * `dirty` mask, so a checkpoint knows what to fsync without the writer keeping a path per file.
 */
export interface DirtyMask {
  dirty: number;
}

/** `dirty` bit set when a file of the owner's directory was created: the directory needs an fsync. */
export const DIR_CHANGED = 1;

interface PendingAppend {
  path: string;
  position: number;
  /** The queued bytes, `buffer[0, length)`: off the JS heap, so a long queue costs the GC nothing. */
  buffer: Buffer;
  length: number;
  owner: DirtyMask;
  bit: number;
}

/** The first buffer of a file's queue holds at least this many bytes; it doubles when full. */
const FIRST_BUFFER_BYTES = 512;

const NEWLINE = 0x0a;

/**
 * Writes the store's materialized files (everything except the journal and snapshots). Appends are
 * collected per file for a whole group and written with one positioned write each; they are not
 * fsynced here, because the journal already holds them durably. Each write sets a bit on the
 * file's owner; `sync()` fsyncs the paths a checkpoint derives from those bits. Descriptors are
 * cached (bounded) to avoid an open per append.
 */
export class FileWriter {
  readonly #fs: FsLike;
  readonly #maxOpen: number;
  readonly #fds = new Map<string, number>();
  /** Queued appends by owner, one per file (bit) of it: no path string is built or hashed per append. */
  #pending = new Map<DirtyMask, PendingAppend[]>();
  #pendingBytes = 0;
  #newDirs: { path: string; parent: DirtyMask; bit: number }[] = [];
  /** Syncs in progress: while any runs, no cached descriptor is closed (it may be the one synced). */
  #syncing = 0;

  constructor(fs: FsLike, maxOpen: number) {
    this.#fs = fs;
    this.#maxOpen = maxOpen;
  }

  /**
   * Queues the line `source[start, end)` plus a newline to be written at `position` of the file
   * `locate(owner, bit)` names (positions of one file must be contiguous); once written, `bit` is
   * set on `owner.dirty` (and `DIR_CHANGED` if the file had to be created). `locate` is asked once
   * per file and flush; pass the same function every time (a bound method, not a new closure).
   */
  appendLine(
    owner: DirtyMask,
    bit: number,
    position: number,
    source: Buffer,
    start: number,
    end: number,
    locate: (owner: DirtyMask, bit: number) => string,
  ): void {
    const pending = this.#room(owner, bit, position, end - start + 1, locate);
    pending.length += source.copy(pending.buffer, pending.length, start, end);
    pending.buffer[pending.length++] = NEWLINE;
  }

  /** Like {@link appendLine}, for one index entry holding `value` (see `offset-index.ts`). */
  appendIndexEntry(
    owner: DirtyMask,
    bit: number,
    position: number,
    value: number,
    locate: (owner: DirtyMask, bit: number) => string,
  ): void {
    const pending = this.#room(owner, bit, position, INDEX_WIDTH, locate);
    writeIndexEntry(pending.buffer, pending.length, value);
    pending.length += INDEX_WIDTH;
  }

  /** The queue of the file `locate(owner, bit)`, with room for `bytes` more. */
  #room(
    owner: DirtyMask,
    bit: number,
    position: number,
    bytes: number,
    locate: (owner: DirtyMask, bit: number) => string,
  ): PendingAppend {
    let files = this.#pending.get(owner);
    if (!files) {
      files = [];
      this.#pending.set(owner, files);
    }
    let pending: PendingAppend | undefined;
    // A loop, not `find`: this runs for every log line and index entry.
    for (const file of files) {
      if (file.bit === bit) {
        pending = file;
        break;
      }
    }
    if (!pending) {
      const buffer = Buffer.allocUnsafe(Math.max(FIRST_BUFFER_BYTES, bytes));
      pending = { path: locate(owner, bit), position, buffer, length: 0, owner, bit };
      files.push(pending);
    } else if (pending.length + bytes > pending.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * pending.buffer.length, pending.length + bytes));
      pending.buffer.copy(grown, 0, 0, pending.length);
      pending.buffer = grown;
    }
    this.#pendingBytes += bytes;
    return pending;
  }

  /** Whether anything is queued (an append or a directory). */
  get hasPending(): boolean {
    return this.#pending.size > 0 || this.#newDirs.length > 0;
  }

  /** How many bytes are queued. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Queues creating a directory before the next flush writes into it; then sets `bit` on its parent's owner. */
  ensureDir(path: string, parent: DirtyMask, bit: number): void {
    this.#newDirs.push({ path, parent, bit });
  }

  /** Writes every queued append (files in parallel); what is queued meanwhile waits for the next flush. */
  async flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = new Map();
    this.#pendingBytes = 0;
    const dirs = this.#newDirs;
    this.#newDirs = [];
    await Promise.all(
      dirs.map(async (dir) => {
        await this.#fs.mkdirp(dir.path);
        dir.parent.dirty |= dir.bit;
      }),
    );
    await Promise.all(
      [...pending.values()].flat().map(async (append) => {
        const fd = await this.#descriptor(append.path, append);
        await writeAll(this.#fs, fd, append.buffer.subarray(0, append.length), append.position);
        append.owner.dirty |= append.bit;
      }),
    );
    // Evict only now: closing a descriptor while a parallel write still uses it could send that
    // write to whatever file reuses the number.
    while (this.#fds.size > this.#maxOpen && this.#syncing === 0) {
      const [oldPath, oldFd] = this.#fds.entries().next().value as [string, number];
      this.#fds.delete(oldPath);
      // Its data stays dirty in the page cache; the checkpoint fsyncs it through a fresh descriptor.
      await this.#fs.close(oldFd).catch(() => undefined);
    }
  }

  /** Makes what was written durable: fsync each of `files`, then each of `dirs`. */
  async sync(files: readonly string[], dirs: readonly string[]): Promise<void> {
    // A checkpoint syncs while flushes go on; the next flush evicts what this one kept open.
    this.#syncing++;
    try {
      await Promise.all(files.map((path) => this.#syncPath(path)));
      await Promise.all(dirs.map((path) => this.#syncPath(path)));
    } finally {
      this.#syncing--;
    }
  }

  /**
   * Closes the cached descriptors of files under `dir` (a worker directory about to be removed).
   * Call between flushes: nothing may be queued for those files.
   */
  async forget(dir: string): Promise<void> {
    const prefix = `${dir}${sep}`;
    for (const [path, fd] of [...this.#fds]) {
      if (!path.startsWith(prefix)) continue;
      this.#fds.delete(path);
      await this.#fs.close(fd).catch(() => undefined);
    }
  }

  /** Closes the cached descriptors of `paths` (files about to be removed); call between flushes. */
  async forgetFiles(paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      const fd = this.#fds.get(path);
      if (fd === undefined) continue;
      this.#fds.delete(path);
      await this.#fs.close(fd).catch(() => undefined);
    }
  }

  /** Closes every cached descriptor. */
  async close(): Promise<void> {
    const fds = [...this.#fds.values()];
    this.#fds.clear();
    await Promise.all(fds.map((fd) => this.#fs.close(fd).catch(() => undefined)));
  }

  async #syncPath(path: string): Promise<void> {
    const cached = this.#fds.get(path);
    if (cached !== undefined) return this.#fs.fsync(cached);
    const fd = await this.#fs.open(path, constants.O_RDONLY);
    try {
      await this.#fs.fsync(fd);
    } finally {
      await this.#fs.close(fd).catch(() => undefined);
    }
  }

  async #descriptor(path: string, append: PendingAppend): Promise<number> {
    let fd = this.#fds.get(path);
    if (fd !== undefined) {
      // Refresh its place in the LRU order.
      this.#fds.delete(path);
      this.#fds.set(path, fd);
      return fd;
    }
    try {
      fd = await this.#fs.open(path, constants.O_RDWR);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      fd = await this.#fs.open(path, constants.O_RDWR | constants.O_CREAT);
      append.owner.dirty |= DIR_CHANGED;
    }
    // Bytes past the planned length are leftovers of writes the journal will redo (or that were
    // never acknowledged), so they are cut at every open. Only the first open of a file in a session
    // can find any: after it, every write of a group completes before the next group plans its
    // appends (a failed write stops the store), so a reopened file ends exactly at `position`, and
    // the truncate changes nothing. That keeps no per-file memory across evictions.
    await this.#fs.ftruncate(fd, append.position);
    this.#fds.set(path, fd);
    return fd;
  }
}
