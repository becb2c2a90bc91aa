import { IdempotencyRecordSchema } from '@worker-runtime/core';
import type * as v from 'valibot';
import { fsyncPath, withFile, writeAll, writeAtomic } from './file-io.js';
import type { FileWriter } from './file-writer.js';
import type { FsLike } from './fs-like.js';
import { KeyOffsets } from './key-offsets.js';
import { type RuntimeLayout, WORKER_FILES } from './layout.js';
import { parseLine, scanLines } from './log-reads.js';
import type { RecordTables } from './record-tables.js';
import type { StoreState } from './store-state.js';
import { SNAPSHOT_DUE, type WorkerUnit } from './worker-unit.js';

// Rewriting one worker's `idempotency.jsonl` without the records an expiry drops. The new log is
// written whole to `idempotency.jsonl.new` (fsynced, directory fsynced), then `worker.json` is
// replaced claiming the new length with `idempotency_swap: true`, then the new log is renamed over
// the old one (directory fsynced). A crash before `worker.json` leaves the old log and its old
// snapshot (the `.new` file is a leftover, overwritten by the next rewrite); a crash after it is
// finished by the next open, which renames a `.new` of the claimed length into place
// ({@link finishIdempotencySwaps}). Either way the log matches its snapshot: no record is lost and
// no damage is reported. It runs right after a checkpoint with no group appended since (the journal
// is empty, every log fsynced), so the snapshot claims only fsynced lengths and replay re-appends
// nothing.

/** The rewritten log waits here until it replaces `idempotency.jsonl`. */
function newLogPath(layout: RuntimeLayout, worker_id: string): string {
  return `${layout.workerFile(worker_id, WORKER_FILES.idempotency)}.new`;
}

/** What a rewrite needs of the open store. */
export interface RewriteContext {
  state: StoreState;
  layout: RuntimeLayout;
  writer: FileWriter;
  tables: RecordTables;
}

/** The line's idempotency record, or null when it cannot be read (such a line is kept as it is). */
function recordOf(line: string): v.InferOutput<typeof IdempotencyRecordSchema> | null {
  return parseLine(IdempotencyRecordSchema, line, 'an idempotency record', () => undefined);
}

/** Orders ISO-8601 times (they compare as strings, as every store compares `created_at`). */
export function compareTimes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The `created_at` by which at least half of the timed records' bytes were made: once the expiry
 * cutoff passes it, a rewrite drops at least half of what it copies now, so each record is copied
 * O(1) times over its life. Null when no record has a time (those are never dropped).
 */
function halfwayTime(times: readonly { at: string; bytes: number }[]): string | null {
  const sorted = [...times].sort((a, b) => compareTimes(a.at, b.at));
  const total = sorted.reduce((sum, time) => sum + time.bytes, 0);
  let bytes = 0;
  for (const time of sorted) {
    bytes += time.bytes;
    if (2 * bytes >= total) return time.at;
  }
  return null;
}

/**
 * Drops the records of `unit` made before `before` from its idempotency log (see the steps above)
 * and sets when the next rewrite is due. Records without `created_at` are kept, as by every store.
 * Call with every applied record written and no group applied meanwhile. A scan that finds
 * nothing to drop only updates the due time.
 */
export async function rewriteIdempotencyLog(
  fs: FsLike,
  ctx: RewriteContext,
  unit: WorkerUnit,
  before: string,
): Promise<void> {
  const { layout, state } = ctx;
  // Every applied record must be in the file, or the rewrite would leave it out.
  if (unit.readable_idempotency_bytes !== unit.idempotency_bytes) return;
  const id = unit.worker_id;
  const path = layout.workerFile(id, WORKER_FILES.idempotency);
  const kept: string[] = [];
  const keys: { key: string; offset: number }[] = [];
  const times: { at: string; bytes: number }[] = [];
  let bytes = 0;
  let dropped = 0;
  await scanLines(fs, path, 0, unit.readable_idempotency_bytes, (line) => {
    const record = recordOf(line);
    if (record?.created_at !== undefined && record.created_at < before) {
      dropped++;
      return;
    }
    const length = Buffer.byteLength(line, 'utf8') + 1;
    if (record) keys.push({ key: record.key, offset: bytes });
    if (record?.created_at !== undefined) times.push({ at: record.created_at, bytes: length });
    kept.push(line);
    bytes += length;
  });
  const due = halfwayTime(times);
  if (dropped === 0) {
    unit.idempotency_due = due;
    unit.dirty |= SNAPSHOT_DUE;
    return;
  }
  const text = Buffer.from(kept.length > 0 ? `${kept.join('\n')}\n` : '', 'utf8');
  const dir = layout.workerDir(id);
  const next = newLogPath(layout, id);
  let renamed = false;
  try {
    await withFile(fs, next, 'w', async (fd) => {
      await writeAll(fs, fd, text, 0);
      await fs.fsync(fd);
    });
    await fsyncPath(fs, dir);
    const file = { ...unit.toFile(state.lastBatch), idempotency_bytes: text.length, idempotency_due: due };
    await writeAtomic(
      fs,
      layout.workerFile(id, WORKER_FILES.worker),
      JSON.stringify({ ...file, idempotency_swap: true }, null, 2),
    );
    const index = new KeyOffsets();
    for (const { key, offset } of keys) index.add(key, offset);
    await ctx.tables.replacing(unit, index, async () => {
      // Appends must go to the new file, not through a descriptor of the old one.
      await ctx.writer.forgetFiles([path]);
      await fs.rename(next, path);
      renamed = true;
      unit.idempotency_bytes = unit.readable_idempotency_bytes = text.length;
      unit.idempotency_due = due;
      // The next snapshot claims the same and drops the swap flag.
      unit.dirty |= SNAPSHOT_DUE;
    });
  } catch (error) {
    // The store goes on appending to the old log. If the flagged snapshot was written, an open
    // would swap the new log in and drop those appends, leaving them to the journal alone: without
    // the new log, open keeps the old one and adopts what is past the claimed length instead.
    if (!renamed) {
      await fs
        .removeTree(next)
        .then(() => fsyncPath(fs, dir))
        .catch(() => undefined);
    }
    throw error;
  }
  await fsyncPath(fs, dir);
}

/**
 * At open, for the workers whose `worker.json` carries `idempotency_swap`: renames a
 * `idempotency.jsonl.new` of the length the snapshot claims over the log (a crash came between the
 * snapshot and the rename); a `.new` of another length is a leftover and is removed. Marks them for
 * a new snapshot, which drops the flag. O(those workers).
 */
export async function finishIdempotencySwaps(
  fs: FsLike,
  layout: RuntimeLayout,
  units: readonly WorkerUnit[],
): Promise<void> {
  for (const unit of units) {
    const next = newLogPath(layout, unit.worker_id);
    const size = await fs.size(next);
    if (size === unit.idempotency_bytes) {
      await fs.rename(next, layout.workerFile(unit.worker_id, WORKER_FILES.idempotency));
      await fsyncPath(fs, layout.workerDir(unit.worker_id));
    } else if (size !== null) {
      // `rm -r`: whatever damage put there, even a directory, must not keep the runtime closed.
      await fs.removeTree(next);
    }
    unit.dirty |= SNAPSHOT_DUE;
  }
}
