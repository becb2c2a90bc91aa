import type { StoreRecord } from '@worker-runtime/core';
import { eventFiles } from './event-log.js';
import { writeAtomic } from './file-io.js';
import { FORMAT } from './file-schemas.js';
import { DIR_CHANGED, type FileWriter } from './file-writer.js';
import type { FsLike } from './fs-like.js';
import type { Journal } from './journal.js';
import { RUNTIME_FILES, type RuntimeLayout, WORKER_FILES } from './layout.js';
import type { Materializer } from './materializer.js';
import { RUNTIME_BITS, type StoreState } from './store-state.js';
import { LOG_BITS, type WorkerUnit } from './worker-unit.js';

/** How many `worker.json` snapshots are written at once. */
const SNAPSHOT_CONCURRENCY = 64;

/** The log files of a worker that its dirty bits say were written since they were last fsynced. */
function dirtyLogs(unit: WorkerUnit, layout: RuntimeLayout): string[] {
  const files: string[] = [];
  for (const [key, bit] of Object.entries(LOG_BITS)) {
    if (unit.dirty & bit) files.push(layout.workerFile(unit.worker_id, WORKER_FILES[key as keyof typeof LOG_BITS]));
  }
  return files;
}

/**
 * What the dirty bits say must be fsynced, and the workers whose `worker.json` must be rewritten.
 * Clears the bits. O(workers): a scan of memory, once per checkpoint, instead of a set of paths
 * kept between checkpoints.
 */
function collectDirty(
  state: StoreState,
  layout: RuntimeLayout,
): { files: string[]; dirs: string[]; units: WorkerUnit[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  const units: WorkerUnit[] = [];
  const events = eventFiles(layout, state.events_base);
  if (state.dirty & RUNTIME_BITS.events) files.push(events.data);
  if (state.dirty & RUNTIME_BITS.eventsIndex) files.push(events.index);
  if (state.dirty & DIR_CHANGED) dirs.push(layout.dir);
  if (state.dirty & RUNTIME_BITS.workersDir) dirs.push(layout.workersDir);
  state.dirty = 0;
  for (const unit of state.workers.values()) {
    if (unit.dirty === 0) continue;
    units.push(unit);
    files.push(...dirtyLogs(unit, layout));
    if (unit.dirty & DIR_CHANGED) dirs.push(layout.workerDir(unit.worker_id));
    unit.dirty = 0;
  }
  return { files, dirs, units };
}

/**
 * Folds the journal into the files: write every queued log line, fsync every file written since the last checkpoint (and the
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
    materializer,
  }: { state: StoreState; layout: RuntimeLayout; writer: FileWriter; journal: Journal; materializer: Materializer },
): Promise<void> {
  await materializer.flush();
  const { files, dirs, units } = collectDirty(state, layout);
  await writer.sync(files, dirs);
  const batch = state.lastBatch;
  for (let i = 0; i < units.length; i += SNAPSHOT_CONCURRENCY) {
    await Promise.all(
      units
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
  const checkpoint = {
    format: FORMAT,
    batch,
    events: state.events,
    events_base: state.events_base,
    diagnostics: state.diagnostics,
    deleted_workers: [...state.deleted],
  };
  await writeAtomic(fs, layout.file(RUNTIME_FILES.checkpoint), JSON.stringify(checkpoint, null, 2));
  state.checkpointBatch = batch;
  state.runtimeDirty = false;
  await journal.reset();
}

/**
 * Writes the `worker.json` of workers whose record the last group created or replaced (creation,
 * stop), so the file exists between checkpoints. Each snapshot claims the worker's log lengths as
 * of the last applied batch, so those logs are fsynced first (the snapshot's directory fsync covers
 * their entries): recovery then replays only newer batches, exactly as after a checkpoint. Written
 * one at a time in creation order, so a crash never leaves a later worker's snapshot without an
 * earlier one's, which would let replay hand the earlier worker a later ordinal.
 */
export async function writeWorkerSnapshots(
  fs: FsLike,
  {
    state,
    layout,
    writer,
    materializer,
  }: { state: StoreState; layout: RuntimeLayout; writer: FileWriter; materializer: Materializer },
  units: readonly WorkerUnit[],
): Promise<void> {
  await materializer.flush();
  const batch = state.lastBatch;
  for (const unit of [...units].sort((a, b) => a.ordinal - b.ordinal)) {
    const files = dirtyLogs(unit, layout);
    unit.dirty = 0;
    await writer.sync(files, []);
    await writeAtomic(
      fs,
      layout.workerFile(unit.worker_id, WORKER_FILES.worker),
      JSON.stringify(unit.toFile(batch), null, 2),
    );
  }
}

/** The workers whose record a group creates or replaces: rare (creation, stop), never an input. */
export function replacedWorkers(
  state: StoreState,
  group: readonly { records: readonly StoreRecord[] }[],
): WorkerUnit[] {
  const units = new Set<WorkerUnit>();
  for (const { records } of group) {
    for (const record of records) {
      const unit = record.type === 'worker' ? state.workers.get(record.worker.worker_id) : undefined;
      if (unit) units.add(unit);
    }
  }
  return [...units];
}
