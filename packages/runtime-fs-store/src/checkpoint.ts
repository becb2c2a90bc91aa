import { writeAtomic } from './file-io.js';
import { FORMAT } from './file-schemas.js';
import type { FileWriter } from './file-writer.js';
import type { FsLike } from './fs-like.js';
import type { Journal } from './journal.js';
import { RUNTIME_FILES, type RuntimeLayout, WORKER_FILES } from './layout.js';
import type { StoreState } from './store-state.js';

/** How many `worker.json` snapshots are written at once. */
const SNAPSHOT_CONCURRENCY = 64;

/**
 * Folds the journal into the files: fsync every file written since the last checkpoint (and the
 * directories that gained entries), write the changed `worker.json` snapshots, then
 * `checkpoint.json` (each temp, fsync, rename, fsync dir), then empty the journal. Each snapshot
 * records the batch it reflects, so a crash between any two steps is repaired by replay.
 */
export async function writeCheckpoint(
  fs: FsLike,
  {
    state,
    layout,
    writer,
    journal,
  }: { state: StoreState; layout: RuntimeLayout; writer: FileWriter; journal: Journal },
): Promise<void> {
  await writer.sync();
  const batch = state.lastBatch;
  const dirty = [...state.dirtyWorkers];
  for (let i = 0; i < dirty.length; i += SNAPSHOT_CONCURRENCY) {
    await Promise.all(
      dirty
        .slice(i, i + SNAPSHOT_CONCURRENCY)
        .map((unit) =>
          writeAtomic(
            fs,
            layout.workerFile(unit.worker_id, WORKER_FILES.worker),
            JSON.stringify(unit.toFile(batch), null, 2),
          ),
        ),
    );
  }
  if (state.runtimeDirty) {
    await writeAtomic(
      fs,
      layout.file(RUNTIME_FILES.runtime),
      JSON.stringify({ format: FORMAT, ...state.runtime }, null, 2),
    );
  }
  const checkpoint = { format: FORMAT, batch, events: state.events, diagnostics: state.diagnostics };
  await writeAtomic(fs, layout.file(RUNTIME_FILES.checkpoint), JSON.stringify(checkpoint, null, 2));
  state.checkpointBatch = batch;
  state.dirtyWorkers.clear();
  state.runtimeDirty = false;
  await journal.reset();
}
