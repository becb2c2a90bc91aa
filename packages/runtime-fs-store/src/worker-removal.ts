import { fsyncPath } from './file-io.js';
import type { FileWriter } from './file-writer.js';
import type { FsLike } from './fs-like.js';
import type { RuntimeLayout } from './layout.js';
import { appendTombstones } from './tombstone-log.js';

/**
 * Removes the directories of deleted workers and makes the removal durable (fsync of `workers/`).
 * Runs after the batch holding their `worker_deleted` record is fsynced in the journal and its
 * other writes are flushed: that journal line (later, the tombstone in `checkpoint.json`) is what
 * makes the delete final, so a crash during the removal is finished by the next open, which removes
 * any directory whose id has a tombstone before it loads workers. The ids are first appended to
 * `deleted-workers.jsonl` (`tombstone-log.ts`) unless `logged` (open has just written every
 * tombstone there). The writer's cached descriptors of those files are closed first.
 */
export async function removeWorkerDirs(
  fs: FsLike,
  layout: RuntimeLayout,
  writer: FileWriter,
  worker_ids: readonly string[],
  logged = false,
): Promise<void> {
  if (worker_ids.length === 0) return;
  // Before any data goes: `checkpoint.json` may be lost after the journal is emptied.
  if (!logged) await appendTombstones(fs, layout, worker_ids);
  for (const id of worker_ids) {
    const dir = layout.workerDir(id);
    await writer.forget(dir);
    await fs.removeTree(dir);
  }
  await fsyncPath(fs, layout.workersDir);
}
