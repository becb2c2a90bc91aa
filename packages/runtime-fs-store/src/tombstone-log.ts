import { constants } from 'node:fs';
import * as v from 'valibot';
import { fsyncPath, readSmallFile, withFile, writeAll, writeAtomic } from './file-io.js';
import type { FsLike } from './fs-like.js';
import { RUNTIME_FILES, type RuntimeLayout } from './layout.js';

// `deleted-workers.jsonl`: one `{"worker_id"}` line per deleted worker, appended and fsynced before
// the worker's directory is removed. It is a second durable copy of the tombstones that
// `checkpoint.json` lists, so losing either file keeps every deleted id reserved (the journal's
// `worker_deleted` records are a third copy until a checkpoint empties it).

const TombstoneLineSchema = v.object({ worker_id: v.string() });

const line = (worker_id: string): string => `${JSON.stringify({ worker_id })}\n`;

/** The ids in the file, and whether it holds anything else (a torn or unreadable line). */
export async function readTombstoneLog(fs: FsLike, layout: RuntimeLayout): Promise<{ ids: string[]; clean: boolean }> {
  const raw = await readSmallFile(fs, layout.file(RUNTIME_FILES.tombstones));
  if (raw === null) return { ids: [], clean: true };
  const ids: string[] = [];
  let clean = true;
  const lines = raw.toString('utf8').split('\n');
  // What follows the last newline is a torn append (or nothing).
  if (lines.pop() !== '') clean = false;
  for (const text of lines) {
    try {
      const parsed = v.safeParse(TombstoneLineSchema, JSON.parse(text));
      if (parsed.success) ids.push(parsed.output.worker_id);
      else clean = false;
    } catch {
      clean = false;
    }
  }
  return { ids, clean };
}

/**
 * At open: makes the file hold exactly the known tombstones (`deleted`: the checkpoint's, the
 * journal's and its own) when it misses one or holds a damaged line: rewritten whole, atomically.
 * O(tombstones), like reading `checkpoint.json`.
 */
export async function restoreTombstoneLog(
  fs: FsLike,
  layout: RuntimeLayout,
  found: { ids: readonly string[]; clean: boolean },
  deleted: ReadonlySet<string>,
): Promise<void> {
  const present = new Set(found.ids);
  if (found.clean && present.size === deleted.size && [...deleted].every((id) => present.has(id))) return;
  await writeAtomic(fs, layout.file(RUNTIME_FILES.tombstones), [...deleted].map(line).join(''));
}

/** Appends tombstones and makes them durable (the file, and the runtime directory when it is new). */
export async function appendTombstones(
  fs: FsLike,
  layout: RuntimeLayout,
  worker_ids: readonly string[],
): Promise<void> {
  const path = layout.file(RUNTIME_FILES.tombstones);
  const created = (await fs.size(path)) === null;
  await withFile(fs, path, constants.O_WRONLY | constants.O_CREAT, async (fd) => {
    await writeAll(fs, fd, Buffer.from(worker_ids.map(line).join(''), 'utf8'), await fs.fsize(fd));
    await fs.fsync(fd);
  });
  if (created) await fsyncPath(fs, layout.dir);
}
