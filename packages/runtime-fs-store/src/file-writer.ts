import { constants } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode, writeAll } from './file-io.js';
import type { FsLike } from './fs-like.js';

interface PendingAppend {
  position: number;
  parts: string[];
}

/**
 * Writes the store's materialized files (everything except the journal and snapshots). Appends are
 * collected per file for a whole group and written with one positioned write each; they are not
 * fsynced here, because the journal already holds them durably. `checkpoint()` fsyncs what was
 * written since the last checkpoint. Descriptors are cached (bounded) to avoid an open per append.
 */
export class FileWriter {
  readonly #fs: FsLike;
  readonly #maxOpen: number;
  readonly #fds = new Map<string, number>();
  #pending = new Map<string, PendingAppend>();
  #newDirs: string[] = [];
  /** Files whose stale tail (beyond the recorded length) was already cut in this session. */
  readonly #trimmed = new Set<string>();
  readonly #dirtyFiles = new Set<string>();
  readonly #dirtyDirs = new Set<string>();

  constructor(fs: FsLike, maxOpen: number) {
    this.#fs = fs;
    this.#maxOpen = maxOpen;
  }

  /** Queues `text` to be written at `position` of `path` (positions of one file must be contiguous). */
  append(path: string, position: number, text: string): void {
    const pending = this.#pending.get(path);
    if (pending) pending.parts.push(text);
    else this.#pending.set(path, { position, parts: [text] });
  }

  /** Queues creating a directory before the next flush writes into it; its parent's entry changes. */
  ensureDir(path: string, parent: string): void {
    this.#newDirs.push(path);
    this.#dirtyDirs.add(parent);
  }

  /** Remembers a directory whose entries changed, to fsync it at the next checkpoint. */
  dirtyDir(path: string): void {
    this.#dirtyDirs.add(path);
  }

  /** Writes every queued append (files in parallel). */
  async flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = new Map();
    const dirs = this.#newDirs;
    this.#newDirs = [];
    await Promise.all(dirs.map((path) => this.#fs.mkdirp(path)));
    await Promise.all(
      [...pending].map(async ([path, append]) => {
        const fd = await this.#descriptor(path, append.position);
        await writeAll(this.#fs, fd, Buffer.from(append.parts.join(''), 'utf8'), append.position);
        this.#dirtyFiles.add(path);
      }),
    );
    // Evict only now: closing a descriptor while a parallel write still uses it could send that
    // write to whatever file reuses the number.
    while (this.#fds.size > this.#maxOpen) {
      const [oldPath, oldFd] = this.#fds.entries().next().value as [string, number];
      this.#fds.delete(oldPath);
      // Its data stays dirty in the page cache; the checkpoint fsyncs it through a fresh descriptor.
      await this.#fs.close(oldFd).catch(() => undefined);
    }
  }

  /** Makes everything written so far durable: fsync each written file, then each changed directory. */
  async sync(): Promise<void> {
    const files = [...this.#dirtyFiles];
    this.#dirtyFiles.clear();
    await Promise.all(files.map((path) => this.#syncPath(path)));
    const dirs = [...this.#dirtyDirs];
    this.#dirtyDirs.clear();
    await Promise.all(dirs.map((path) => this.#syncPath(path)));
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

  async #descriptor(path: string, position: number): Promise<number> {
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
      this.#dirtyDirs.add(dirname(path));
    }
    if (!this.#trimmed.has(path)) {
      // Bytes past the recorded length are leftovers of writes the journal will redo (or never acked).
      await this.#fs.ftruncate(fd, position);
      this.#trimmed.add(path);
    }
    this.#fds.set(path, fd);
    return fd;
  }
}
