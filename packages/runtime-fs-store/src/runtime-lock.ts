import { RuntimeError } from '@worker-runtime/core';
import * as v from 'valibot';
import { errnoCode, readSmallFile, writeAll } from './file-io.js';
import { LockFileSchema } from './file-schemas.js';
import type { FsLike } from './fs-like.js';

/** What acquiring the lock found: a stale holder it replaced, if any. */
export interface LockResult {
  took_over_pid: number | null;
}

/** True when a process with this pid exists (EPERM still means it exists, under another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

/** The pid in a lock file; null when the file is gone or unreadable (a crash while creating it). */
async function holderPid(fs: FsLike, path: string): Promise<number | null> {
  const raw = await readSmallFile(fs, path);
  if (raw === null) return null;
  try {
    const parsed = v.safeParse(LockFileSchema, JSON.parse(raw.toString('utf8')));
    return parsed.success ? parsed.output.pid : 0;
  } catch {
    return 0;
  }
}

async function createExclusive(fs: FsLike, path: string): Promise<boolean> {
  let fd: number;
  try {
    fd = await fs.open(path, 'wx');
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    const body = `${JSON.stringify({ pid: process.pid, acquired_at: new Date().toISOString() })}\n`;
    await writeAll(fs, fd, Buffer.from(body, 'utf8'), 0);
    await fs.fsync(fd);
  } finally {
    await fs.close(fd);
  }
  return true;
}

function lockedBy(pid: number): RuntimeError {
  return new RuntimeError('store_locked', `the runtime directory is in use by process ${pid}`, {
    details: { holder_pid: pid },
  });
}

/**
 * Takes the runtime directory's `LOCK` (created with O_EXCL, holding our pid). A lock whose process
 * is gone is taken over; takeovers are serialized through a second exclusive file so two starting
 * processes cannot both replace the same stale lock.
 * @throws RuntimeError `store_locked` while a live process holds it
 */
export async function acquireLock(fs: FsLike, lockPath: string, takeoverPath: string): Promise<LockResult> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(fs, lockPath)) return { took_over_pid: null };
    const pid = await holderPid(fs, lockPath);
    if (pid === null) continue;
    // A lock file with no valid pid was torn while being written: its writer died before fsync.
    if (pid !== 0 && (pid === process.pid || processAlive(pid))) throw lockedBy(pid);
    if (!(await createExclusive(fs, takeoverPath))) {
      const taker = await holderPid(fs, takeoverPath);
      if (taker !== null && taker !== 0 && processAlive(taker)) throw lockedBy(taker);
      await fs.unlink(takeoverPath).catch(() => undefined);
      continue;
    }
    try {
      // Re-check under the takeover lock: another process may have replaced the stale lock meanwhile.
      if ((await holderPid(fs, lockPath)) === pid) await fs.unlink(lockPath).catch(() => undefined);
      if (await createExclusive(fs, lockPath)) return { took_over_pid: pid };
    } finally {
      await fs.unlink(takeoverPath).catch(() => undefined);
    }
  }
  const pid = await holderPid(fs, lockPath);
  throw lockedBy(pid ?? 0);
}

/** Removes our lock file if it is still ours. */
export async function releaseLock(fs: FsLike, lockPath: string): Promise<void> {
  if ((await holderPid(fs, lockPath)) === process.pid) await fs.unlink(lockPath).catch(() => undefined);
}
