import * as fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { errnoCode } from './file-io.js';

/** A directory entry as the store needs it. */
export interface DirEntry {
  name: string;
  isDirectory: boolean;
}

/**
 * The narrow set of file-system calls the fs store makes, all by file descriptor or absolute path.
 * Injectable so tests can make a write or fsync fail (ENOSPC, EIO) exactly where they want.
 */
export interface FsLike {
  /** Opens a file; `flags` as Node's `fs.open` takes them (a string or `fs.constants` bits). */
  open(path: string, flags: string | number): Promise<number>;
  close(fd: number): Promise<void>;
  /** Writes `length` bytes of `buffer` from `offset` at file `position`; returns the bytes written. */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Reads up to `length` bytes into `buffer` at `offset` from file `position`; returns the bytes read. */
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  fsync(fd: number): Promise<void>;
  fdatasync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  /** The file size in bytes. */
  fsize(fd: number): Promise<number>;
  /** The size of the file at `path` (one `stat`), or null when it does not exist. */
  size(path: string): Promise<number | null>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Creates a directory (and its parents); no error when it exists. */
  mkdirp(path: string): Promise<void>;
  readdir(path: string): Promise<DirEntry[]>;
  /** Removes a directory and everything in it; no error when it does not exist. */
  removeTree(path: string): Promise<void>;
}

const callbacks = {
  open: promisify(fs.open),
  close: promisify(fs.close),
  write: promisify(fs.write),
  read: promisify(fs.read),
  fsync: promisify(fs.fsync),
  fdatasync: promisify(fs.fdatasync),
  ftruncate: promisify(fs.ftruncate),
  fstat: promisify(fs.fstat),
  stat: promisify(fs.stat),
};

/**
 * Creates `path` and its missing parents one level at a time. Node 20's `mkdir({ recursive: true })`
 * spins forever where a parent exists but refuses children with ENOENT (`/proc/nope/x`); here
 * that ENOENT is simply thrown.
 */
async function makeDirs(path: string): Promise<void> {
  const missing: string[] = [];
  for (let current = resolve(path); ; current = dirname(current)) {
    try {
      await fs.promises.stat(current);
      break;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT' || dirname(current) === current) throw error;
      missing.push(current);
    }
  }
  for (const dir of missing.reverse()) {
    try {
      await fs.promises.mkdir(dir);
    } catch (error) {
      // Another process (or a parallel call) made it meanwhile.
      if (errnoCode(error) !== 'EEXIST') throw error;
    }
  }
}

/** Writes up to this size are made with `writeSync` (see `nodeFs.write`). */
const DIRECT_WRITE_BYTES = 256 * 1024;

/** The real file system (Node's callback API: one thread-pool hop per call, no FileHandle overhead). */
export const nodeFs: FsLike = {
  open: (path, flags) => callbacks.open(path, flags, 0o644),
  close: (fd) => callbacks.close(fd),
  // The store's writes are appends to the page cache (durability comes from the fsyncs, which stay
  // on the pool): issued directly, one costs ~7 µs of CPU here against ~25 µs through libuv's pool
  // (docs/performance.md). Large writes (a trimmed event log, a big snapshot) still go through it.
  write: async (fd, buffer, offset, length, position) =>
    length <= DIRECT_WRITE_BYTES
      ? fs.writeSync(fd, buffer, offset, length, position)
      : (await callbacks.write(fd, buffer, offset, length, position)).bytesWritten,
  read: async (fd, buffer, offset, length, position) =>
    (await callbacks.read(fd, buffer, offset, length, position)).bytesRead,
  fsync: (fd) => callbacks.fsync(fd),
  fdatasync: (fd) => callbacks.fdatasync(fd),
  ftruncate: (fd, length) => callbacks.ftruncate(fd, length),
  fsize: async (fd) => (await callbacks.fstat(fd)).size,
  size: async (path) => {
    try {
      return (await callbacks.stat(path)).size;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return null;
      throw error;
    }
  },
  rename: (from, to) => fs.promises.rename(from, to),
  unlink: (path) => fs.promises.unlink(path),
  mkdirp: makeDirs,
  removeTree: (path) => fs.promises.rm(path, { recursive: true, force: true }),
  readdir: async (path) =>
    (await fs.promises.readdir(path, { withFileTypes: true })).map((entry) => ({
      name: entry.name,
      isDirectory: entry.isDirectory(),
    })),
};
