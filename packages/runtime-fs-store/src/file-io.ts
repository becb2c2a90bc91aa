import { dirname } from 'node:path';
import { RuntimeError } from '@worker-runtime/core';
import type { FsLike } from './fs-like.js';

/** The errno code of a file-system error, if it has one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A `store_unavailable` error for a failed disk operation; message and cause never carry a path. */
export function storeUnavailable(error: unknown, doing: string): RuntimeError {
  const code = errnoCode(error) ?? 'unknown error';
  return new RuntimeError(
    'store_unavailable',
    `the store could not ${doing} (${code}); it accepts no changes until reopened`,
    {
      details: { errno: code },
      cause: new Error(code),
    },
  );
}

/** Writes the whole buffer at `position`, looping over short writes. */
export async function writeAll(fs: FsLike, fd: number, buffer: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const n = await fs.write(fd, buffer, done, buffer.length - done, position + done);
    if (n <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    done += n;
  }
}

/** Reads `length` bytes at `position` (fewer at end of file). */
export async function readAt(fs: FsLike, fd: number, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = await fs.read(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buffer.subarray(0, done);
}

/** Opens `path`, runs `body` with the descriptor, and always closes it. */
export async function withFile<T>(
  fs: FsLike,
  path: string,
  flags: string | number,
  body: (fd: number) => Promise<T>,
): Promise<T> {
  const fd = await fs.open(path, flags);
  try {
    return await body(fd);
  } finally {
    await fs.close(fd).catch(() => undefined);
  }
}

/** The whole content of a small file, or null when it does not exist. */
export async function readSmallFile(fs: FsLike, path: string): Promise<Buffer | null> {
  try {
    return await withFile(fs, path, 'r', async (fd) => readAt(fs, fd, 0, await fs.fsize(fd)));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
}

/** Flushes a file or directory (a directory fsync makes its new and renamed entries durable). */
export async function fsyncPath(fs: FsLike, path: string): Promise<void> {
  await withFile(fs, path, 'r', (fd) => fs.fsync(fd));
}

/** Replaces `path` atomically: write a temp file, fsync it, rename it over, fsync the directory. */
export async function writeAtomic(fs: FsLike, path: string, text: string): Promise<void> {
  const temp = `${path}.tmp`;
  await withFile(fs, temp, 'w', async (fd) => {
    await writeAll(fs, fd, Buffer.from(text, 'utf8'), 0);
    await fs.fsync(fd);
  });
  await fs.rename(temp, path);
  await fsyncPath(fs, dirname(path));
}
