import { join } from 'node:path';
import {
  type Diagnostic,
  isValidId,
  type RuntimeRecord,
  type StoreOpenRequest,
  type WorkerRecord,
} from '@worker-runtime/core';
import * as v from 'valibot';
import { eventFileOf, eventFiles, openEventLog, toIds } from './event-log.js';
import { errnoCode, fsyncPath, readSmallFile, withFile, writeAtomic } from './file-io.js';
import { CheckpointFileSchema, FORMAT, RuntimeFileSchema, WorkerFileSchema } from './file-schemas.js';
import { DIR_CHANGED, type FileWriter } from './file-writer.js';
import type { FsLike } from './fs-like.js';
import { readReservation } from './id-reservation.js';
import { finishIdempotencySwaps } from './idempotency-rewrite.js';
import { Journal, type JournalBatch } from './journal.js';
import { RUNTIME_FILES, type RuntimeLayout, runtimesDir, WORKER_FILES } from './layout.js';
import { checkEventLog, checkWorkerLogs, padEventLog } from './log-checks.js';
import { fileSize } from './log-repair.js';
import { INDEX_WIDTH, readIndex } from './offset-index.js';
import { type FsStoreDiagnosticCode, storeDiagnostic } from './store-diagnostics.js';
import { type LogSize, StoreState } from './store-state.js';
import { readTombstoneLog, restoreTombstoneLog } from './tombstone-log.js';
import { eventsOf, rebuildWorker } from './worker-rebuild.js';
import { removeWorkerDirs } from './worker-removal.js';
import { WorkerUnit } from './worker-unit.js';

const KNOWN_RUNTIME_ENTRIES = new Set<string>(Object.values(RUNTIME_FILES));

/** A JSON file checked against its schema: the value, `null` when absent, `'corrupt'` otherwise. */
async function readJson<T>(
  fs: FsLike,
  path: string,
  schema: v.GenericSchema<unknown, T>,
): Promise<T | null | 'corrupt'> {
  const raw = await readSmallFile(fs, path);
  if (raw === null) return null;
  try {
    const parsed = v.safeParse(schema, JSON.parse(raw.toString('utf8')));
    return parsed.success ? parsed.output : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

/** An indexed log's size from its index alone (count = entries, bytes = last end offset). */
async function sizeFromIndex(fs: FsLike, path: string): Promise<LogSize> {
  try {
    return await withFile(fs, path, 'r', async (fd) => {
      const count = Math.floor((await fs.fsize(fd)) / INDEX_WIDTH);
      const [bytes = 0] = await readIndex(fs, fd, count - 1, count > 0 ? 1 : 0);
      return { count, bytes };
    });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { count: 0, bytes: 0 };
    throw error;
  }
}

/** What opening a runtime directory produced. */
export interface Recovered {
  state: StoreState;
  journal: Journal;
  /** True when the journal held batches, so a checkpoint should fold them in now. */
  replayed: boolean;
  diagnostics: Diagnostic[];
}

/**
 * Loads a runtime directory (the caller holds its lock): identity, checkpoint, one `worker.json`
 * per worker, then replays the journal's batches newer than what those files reflect. Reads
 * O(workers) small files plus the journal, which checkpoints keep short; never a whole log.
 */
export async function recoverRuntime(
  fs: FsLike,
  layout: RuntimeLayout,
  writer: FileWriter,
  runtime_id: string,
  request: StoreOpenRequest,
): Promise<Recovered> {
  const diagnostics: Diagnostic[] = [];
  const note = (code: FsStoreDiagnosticCode, message: string, severity: 'warning' | 'info' = 'warning') =>
    diagnostics.push(storeDiagnostic(severity, code, message, request.now));

  await fs.mkdirp(layout.workersDir);
  let runtime: RuntimeRecord;
  const runtimeFile = await readJson(fs, layout.file(RUNTIME_FILES.runtime), RuntimeFileSchema);
  if (runtimeFile === null || runtimeFile === 'corrupt' || runtimeFile.runtime_id !== runtime_id) {
    if (runtimeFile !== null || (await fileSize(fs, layout.file(RUNTIME_FILES.checkpoint))) !== null) {
      const what = runtimeFile === null ? 'was missing' : 'could not be read';
      note(
        'store_corrupt_record',
        `runtime.json ${what}; it was rewritten from the directory name (display name lost)`,
      );
    }
    runtime = { runtime_id, display_name: request.display_name ?? null, created_at: request.now };
    await writeAtomic(fs, layout.file(RUNTIME_FILES.runtime), JSON.stringify({ format: FORMAT, ...runtime }, null, 2));
    // A new runtime directory (and its workers/ directory) must survive a crash too.
    await fsyncPath(fs, layout.root);
    await fsyncPath(fs, runtimesDir(layout.root));
  } else {
    runtime = { runtime_id, display_name: runtimeFile.display_name, created_at: runtimeFile.created_at };
  }

  const checkpoint = await readJson(fs, layout.file(RUNTIME_FILES.checkpoint), CheckpointFileSchema);
  const journalMissing = checkpoint !== null && (await fileSize(fs, layout.file(RUNTIME_FILES.journal))) === null;
  if (journalMissing) {
    note('store_corrupt_record', 'journal.jsonl was missing; what was committed after the last checkpoint is lost');
  }
  const { journal, scan } = await Journal.open(fs, layout.file(RUNTIME_FILES.journal));
  const reserved = await readReservation(fs, layout);
  // Batches the journal lost may hold acknowledged events not yet in the event log: skip their ids.
  const journalLost = journalMissing || scan.corrupt_lines > 0 || scan.tail_damaged;
  const deleted = tombstones(checkpoint !== 'corrupt' ? checkpoint : null, scan.batches);
  const tombstoneLog = await readTombstoneLog(fs, layout);
  for (const id of tombstoneLog.ids) deleted.add(id);
  // Every tombstone in both copies, so losing `checkpoint.json` (or this file) keeps every id reserved.
  await restoreTombstoneLog(fs, layout, tombstoneLog, deleted);
  if (!tombstoneLog.clean) {
    note(
      'store_torn_tail_repaired',
      'the list of deleted workers had an incomplete or unreadable record; it was rewritten from the other copies',
    );
  }
  const workerDirs: string[] = [];
  const unfinishedDeletes: string[] = [];
  for (const entry of await fs.readdir(layout.workersDir)) {
    if (!entry.isDirectory || !isValidId(entry.name)) {
      note('store_stray_entry', `an unexpected entry in workers/ was ignored${printable(entry.name)}`, 'info');
      continue;
    }
    if (deleted.has(entry.name)) unfinishedDeletes.push(entry.name);
    else workerDirs.push(entry.name);
  }
  // A delete is final once its journal line is durable: finish one that a crash interrupted (its
  // tombstone is in the file already, restored above).
  await removeWorkerDirs(fs, layout, writer, unfinishedDeletes, true);
  // Acks rest on the journal alone, so its directory entry must be durable before the first one.
  await fsyncPath(fs, layout.dir);
  if (scan.torn_bytes > 0) {
    note(
      'store_torn_tail_repaired',
      `the journal ended in an incomplete record (${scan.torn_bytes} bytes); it was truncated`,
    );
  }
  if (scan.corrupt_lines > 0) {
    const named = scan.corrupt_workers.length > 0 ? ` (naming worker ${scan.corrupt_workers.join(', ')})` : '';
    note('store_corrupt_record', `${scan.corrupt_lines} unreadable journal record(s)${named} were skipped`);
  }

  const files = await Promise.all(
    workerDirs.map((id) => readJson(fs, layout.workerFile(id, WORKER_FILES.worker), WorkerFileSchema)),
  );
  const loaded: WorkerUnit[] = [];
  const swapped: WorkerUnit[] = [];
  const damaged: { id: string; corrupt: boolean }[] = [];
  workerDirs.forEach((id, i) => {
    const file = files[i] ?? null;
    if (file === null) damaged.push({ id, corrupt: false });
    else if (file === 'corrupt' || file.worker.worker_id !== id) damaged.push({ id, corrupt: true });
    else {
      const unit = new WorkerUnit(file);
      loaded.push(unit);
      if (file.idempotency_swap) swapped.push(unit);
    }
  });
  // An idempotency log rewrite that a crash interrupted after its snapshot: finish it first.
  await finishIdempotencySwaps(fs, layout, swapped);

  // Snapshots are derived: what the logs and the other snapshots prove wins over a lost checkpoint.
  const usable = checkpoint !== null && checkpoint !== 'corrupt' ? checkpoint : null;
  // No checkpoint is normal until the first one; after it the journal no longer starts at batch 1.
  const folded = (scan.batches[0]?.batch ?? Number.POSITIVE_INFINITY) > 1 && workerDirs.length > 0;
  if (checkpoint === 'corrupt' || (checkpoint === null && folded)) {
    note(
      'store_corrupt_record',
      `checkpoint.json was ${checkpoint === null ? 'missing' : 'unreadable'}; it was rebuilt from the event log, the worker snapshots and the journal (the list of recent diagnostics was lost)`,
    );
  }
  const eventLog = eventFiles(layout, await openEventLog(fs, layout));
  // A checkpoint written before the last trim describes files that are gone: size them by their index.
  const recordedEvents =
    usable && (usable.events_base ?? 0) === eventLog.base
      ? usable.events
      : toIds(await sizeFromIndex(fs, eventLog.index), eventLog.base);
  const events = await checkEventLog(fs, eventLog, recordedEvents, (code, message) => note(code, message));
  const state = new StoreState(layout, writer, {
    runtime,
    batch: usable?.batch ?? 0,
    events,
    events_base: eventLog.base,
    diagnostics: usable?.diagnostics ?? [],
    maxDiagnostics: request.max_diagnostics,
    deleted,
    idempotency_before: usable?.idempotency_before ?? null,
  });
  // The lock (and any rewritten runtime.json) changed the runtime directory.
  state.dirty |= DIR_CHANGED;
  state.reserved_events = reserved;
  for (const unit of loaded) state.addLoaded(unit);
  // Batch numbers only grow: never below what any snapshot already reflects.
  state.lastBatch = Math.max(state.lastBatch, ...loaded.map((unit) => unit.batch));
  let repaired = await checkWorkerLogs(fs, layout, state, loaded, (code, message) => note(code, message));

  const missing: string[] = [];
  const damagedEvents = await eventsOf(
    fs,
    eventLog.data,
    state.events,
    damaged.map(({ id }) => id),
  );
  // Rebuilt workers join the list in creation order: by the first event naming them.
  const created = (id: string) =>
    Math.min(damagedEvents.get(id)?.[0]?.id ?? Number.POSITIVE_INFINITY, firstJournalEvent(scan.batches, id));
  damaged.sort((a, b) => created(a.id) - created(b.id));
  for (const { id, corrupt } of damaged) {
    const rebuilt = await rebuildWorker(fs, layout, {
      worker_id: id,
      ordinal: state.nextOrdinal,
      journal_record: lastWorkerRecord(scan.batches, id),
      events: damagedEvents.get(id) ?? [],
      force: corrupt,
    });
    if (!rebuilt) {
      missing.push(id);
      continue;
    }
    state.addLoaded(rebuilt.unit);
    repaired = true;
    const what = corrupt ? 'could not be read' : 'was missing';
    note(
      'store_worker_rebuilt',
      rebuilt.record_lost
        ? `worker.json of worker ${id} ${what} and no copy of its record survives; it was rebuilt from its logs as a stopped worker (its transcript, runs and events stay readable and its id reserved)`
        : `worker.json of worker ${id} ${what}; it was rebuilt from its logs`,
    );
  }

  for (const entry of await fs.readdir(layout.dir)) {
    if (KNOWN_RUNTIME_ENTRIES.has(entry.name) || eventFileOf(entry.name)) continue;
    if (entry.name.endsWith('.tmp')) {
      // The leftover of a snapshot write that a crash interrupted; the real file is intact.
      await fs.unlink(join(layout.dir, entry.name)).catch(() => undefined);
      continue;
    }
    note(
      'store_stray_entry',
      `an unexpected entry in the runtime directory was ignored${printable(entry.name)}`,
      'info',
    );
  }

  for (const batch of scan.batches) state.apply(batch);
  const publish = state.capture();
  await writer.flush();
  publish();
  const floor = Math.max(journalLost ? reserved : 0, ...[...state.workers.values()].map((unit) => unit.last_event_id));
  await padEventLog(fs, layout, state, floor, (code, message) => note(code, message));
  for (const id of missing) {
    if (!state.workers.has(id))
      note('store_stray_entry', `the folder of worker ${id} has no worker.json; it was ignored`, 'info');
  }
  return { state, journal, replayed: scan.batches.length > 0 || repaired, diagnostics };
}

/** Ids of deleted workers: the checkpoint's tombstones and the journal's `worker_deleted` records. */
function tombstones(
  checkpoint: { deleted_workers?: string[] | undefined } | null,
  batches: readonly JournalBatch[],
): Set<string> {
  const deleted = new Set(checkpoint?.deleted_workers ?? []);
  for (const { records } of batches) {
    for (const record of records) if (record.type === 'worker_deleted') deleted.add(record.worker_id);
  }
  return deleted;
}

/** The id of the first event naming worker `id` in the journal (infinity when none). */
function firstJournalEvent(batches: readonly JournalBatch[], id: string): number {
  for (const { records } of batches) {
    for (const record of records) {
      if (record.type === 'event' && record.event.worker_ref?.worker_id === id) return record.event.id;
    }
  }
  return Number.POSITIVE_INFINITY;
}

/** The newest record of worker `id` the journal holds, if any. */
function lastWorkerRecord(batches: readonly JournalBatch[], id: string): WorkerRecord | null {
  let found: WorkerRecord | null = null;
  for (const { records } of batches) {
    for (const record of records) if (record.type === 'worker' && record.worker.worker_id === id) found = record.worker;
  }
  return found;
}

/** ` (name)` when the entry name is a plain id-like name; nothing otherwise. */
function printable(name: string): string {
  return isValidId(name) ? ` (${name})` : '';
}
