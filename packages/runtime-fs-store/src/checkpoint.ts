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
import { LOG_BITS, LOG_FILES, SNAPSHOT_DUE, type WorkerUnit } from './worker-unit.js';

/** How many `worker.json` snapshots are written at once. */
const SNAPSHOT_CONCURRENCY = 64;

/** The log files of a worker that its dirty bits say were written since they were last fsynced. */
function dirtyLogs(unit: WorkerUnit, layout: RuntimeLayout): string[] {
  const files: string[] = [];
  for (const [bit, file] of LOG_FILES) if (unit.dirty & bit) files.push(layout.workerFile(unit.worker_id, file));
  return files;
}

/** Every log bit and `DIR_CHANGED`: what a checkpoint's fsyncs take care of (not `SNAPSHOT_DUE`). */
const SYNC_BITS = Object.values(LOG_BITS).reduce((mask, bit) => mask | bit, DIR_CHANGED);

/**
 * What the dirty bits say must be fsynced; clears those bits. O(workers): a scan of memory, once per
 * checkpoint, instead of a set of paths kept between checkpoints.
 */
function collectDirty(state: StoreState, layout: RuntimeLayout): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  const events = eventFiles(layout, state.events_base);
  if (state.dirty & RUNTIME_BITS.events) files.push(events.data);
  if (state.dirty & RUNTIME_BITS.eventsIndex) files.push(events.index);
  if (state.dirty & DIR_CHANGED) dirs.push(layout.dir);
  if (state.dirty & RUNTIME_BITS.workersDir) dirs.push(layout.workersDir);
  state.dirty = 0;
  for (const unit of state.workers.values()) {
    if ((unit.dirty & SYNC_BITS) === 0) continue;
    files.push(...dirtyLogs(unit, layout));
    if (unit.dirty & DIR_CHANGED) dirs.push(layout.workerDir(unit.worker_id));
    unit.dirty &= ~SYNC_BITS;
  }
  return { files, dirs };
}

/** What a checkpoint needs of the open store. */
export interface CheckpointContext {
  state: StoreState;
  layout: RuntimeLayout;
  writer: FileWriter;
  journal: Journal;
  materializer: Materializer;
}

/**
 * Folds the journal into the files as of the last applied batch, whose journal offset is
 * `journal_end`. Everything the checkpoint will write is taken at once, first (the batch, the
 * `worker.json` of every worker changed since the last checkpoint, `checkpoint.json`): commits may
 * go on meanwhile, their batches stay in the journal. Then: write every queued log line, fsync
 * every file written since the last checkpoint (and the directories that gained entries), write the
 * snapshots (each temp, fsync, rename, fsync dir), then `checkpoint.json`, then drop the journal up
 * to `journal_end`. Each snapshot records the batch it reflects and claims only log lengths that
 * were fsynced before it, so a crash between any two steps is repaired by replay.
 */
export async function writeCheckpoint(fs: FsLike, open: CheckpointContext, journal_end: number): Promise<void> {
  const { state, layout, writer, journal, materializer } = open;
  const batch = state.lastBatch;
  const snapshots: { path: string; text: string }[] = [];
  for (const unit of state.workers.values()) {
    if ((unit.dirty & SNAPSHOT_DUE) === 0) continue;
    unit.dirty &= ~SNAPSHOT_DUE;
    const text = JSON.stringify(unit.toFile(batch), null, 2);
    snapshots.push({ path: layout.workerFile(unit.worker_id, WORKER_FILES.worker), text });
  }
  const runtime = state.runtimeDirty ? JSON.stringify({ format: FORMAT, ...state.runtime }, null, 2) : null;
  state.runtimeDirty = false;
  const checkpoint = JSON.stringify(
    {
      format: FORMAT,
      batch,
      events: state.events,
      events_base: state.events_base,
      diagnostics: state.diagnostics,
      deleted_workers: [...state.deleted],
      ...(state.idempotency_before !== null ? { idempotency_before: state.idempotency_before } : {}),
    },
    null,
    2,
  );
  // Everything applied so far (so at least everything the snapshots claim) reaches the files.
  await materializer.flush();
  const { files, dirs } = collectDirty(state, layout);
  await writer.sync(files, dirs);
  for (let i = 0; i < snapshots.length; i += SNAPSHOT_CONCURRENCY) {
    await Promise.all(
      snapshots.slice(i, i + SNAPSHOT_CONCURRENCY).map(({ path, text }) => writeAtomic(fs, path, text)),
    );
  }
  if (runtime !== null) await writeAtomic(fs, layout.file(RUNTIME_FILES.runtime), runtime);
  await writeAtomic(fs, layout.file(RUNTIME_FILES.checkpoint), checkpoint);
  state.checkpointBatch = Math.max(state.checkpointBatch, batch);
  await journal.compact(journal_end);
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
  { state, layout, writer, materializer }: CheckpointContext,
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
