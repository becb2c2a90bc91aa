import { StoredRunSchema, type WorkerRecord, WorkerRecordSchema } from '@worker-runtime/core';
import * as v from 'valibot';
import { FORMAT } from './file-schemas.js';
import { DIR_CHANGED } from './file-writer.js';
import type { FsLike } from './fs-like.js';
import { type RuntimeLayout, WORKER_FILES } from './layout.js';
import { scanLines } from './log-reads.js';
import { cutToLastLine, fileSize, rebuildIndex, rewriteFile } from './log-repair.js';
import { INDEX_WIDTH, indexEntry } from './offset-index.js';
import type { LogSize } from './store-state.js';
import { LOG_BITS, SNAPSHOT_DUE, WorkerUnit } from './worker-unit.js';

/** A top-level field of a JSON line, or undefined when the line is not a JSON object. */
export function jsonField(line: string, field: string): unknown {
  const value = parseJson(line) as Record<string, unknown> | null | undefined;
  return typeof value === 'object' && value !== null ? value[field] : undefined;
}

/** The key (sequence or id) of an indexed log line, or null. */
export function keyOf(field: 'sequence' | 'id'): (line: string) => number | null {
  return (line) => {
    const value = jsonField(line, field);
    return Number.isSafeInteger(value) && (value as number) >= 1 ? (value as number) : null;
  };
}

/** One event line's id, worker and time, as far as it can be read. */
export interface EventHead {
  id: number;
  worker_id: string | null;
  created_at: string | null;
}

function eventHead(line: string): EventHead | null {
  try {
    const event = JSON.parse(line) as { id?: unknown; worker_ref?: { worker_id?: unknown }; created_at?: unknown };
    if (!Number.isSafeInteger(event.id)) return null;
    const worker_id = event.worker_ref?.worker_id;
    return {
      id: event.id as number,
      worker_id: typeof worker_id === 'string' ? worker_id : null,
      created_at: typeof event.created_at === 'string' ? event.created_at : null,
    };
  } catch {
    return null;
  }
}

/**
 * The events naming each of `worker_ids` in the first `events.bytes` bytes of the event log's data
 * file `data`, by worker:
 * one scan, O(events), however many workers need rebuilding.
 */
export async function eventsOf(
  fs: FsLike,
  data: string,
  events: LogSize,
  worker_ids: readonly string[],
): Promise<Map<string, EventHead[]>> {
  const found = new Map(worker_ids.map((id) => [id, [] as EventHead[]]));
  if (worker_ids.length === 0) return found;
  const size = Math.min(events.bytes, (await fileSize(fs, data)) ?? 0);
  await scanLines(fs, data, 0, size, (line) => {
    const head = eventHead(line);
    const list = head?.worker_id ? found.get(head.worker_id) : undefined;
    if (head && list && head.id > (list.at(-1)?.id ?? 0)) list.push(head);
  });
  return found;
}

/** The events naming `worker_id` in the event log's data file `data`: O(events). */
export async function workerEvents(fs: FsLike, data: string, events: LogSize, worker_id: string): Promise<EventHead[]> {
  return (await eventsOf(fs, data, events, [worker_id])).get(worker_id) ?? [];
}

/** What rebuilding a worker found: the unit, and whether its record itself had to be made up. */
export interface RebuiltWorker {
  unit: WorkerUnit;
  record_lost: boolean;
}

/**
 * Rebuilds a worker whose `worker.json` is damaged or missing from what its logs hold: the
 * transcript (its index rebuilt from the data; the count never shrinks below what the index
 * held, so no sequence is reused), its events from the global log, its runs by replaying
 * `runs.jsonl` through the same bookkeeping as a live write. The record comes from the journal when
 * a batch there holds it, else from `history.jsonl`; otherwise the worker is kept as a stopped placeholder (readable, its
 * id reserved). `batch` is 0, so every journal batch naming it is replayed on top (replay is
 * idempotent by key). Returns null when there is nothing to keep (no record and empty logs).
 */
export async function rebuildWorker(
  fs: FsLike,
  layout: RuntimeLayout,
  input: {
    worker_id: string;
    ordinal: number;
    journal_record: WorkerRecord | null;
    /** The worker's events, from {@link eventsOf}. */
    events: readonly EventHead[];
    force: boolean;
  },
): Promise<RebuiltWorker | null> {
  const { worker_id } = input;
  const file = (name: (typeof WORKER_FILES)[keyof typeof WORKER_FILES]) => layout.workerFile(worker_id, name);
  const paths = { data: file(WORKER_FILES.transcript), index: file(WORKER_FILES.transcriptIndex) };
  let count = Math.floor(((await fileSize(fs, paths.index)) ?? 0) / INDEX_WIDTH);
  const dataSize = (await fileSize(fs, paths.data)) ?? 0;
  const sequenceOf = keyOf('sequence');
  await scanLines(fs, paths.data, 0, dataSize, (line) => {
    count = Math.max(count, sequenceOf(line) ?? 0);
  });
  const transcript =
    count > 0 ? (await rebuildIndex(fs, paths, count, dataSize, sequenceOf)).size : { count, bytes: 0 };
  const { events } = input;
  const runsBytes = await logBytes(fs, file(WORKER_FILES.runs));
  const idempotencyBytes = await logBytes(fs, file(WORKER_FILES.idempotency));
  const historyBytes = await logBytes(fs, file(WORKER_FILES.history));
  let kept: WorkerRecord | null = null;
  await scanLines(fs, file(WORKER_FILES.history), 0, historyBytes, (line) => {
    const parsed = v.safeParse(WorkerRecordSchema, parseJson(line));
    if (parsed.success && parsed.output.worker_id === worker_id) kept = parsed.output as WorkerRecord;
  });
  const found = input.journal_record ?? (kept as WorkerRecord | null);
  const hasData =
    transcript.count > 0 || events.length > 0 || runsBytes > 0 || idempotencyBytes > 0 || historyBytes > 0;
  if (!input.force && !hasData && found === null) return null;

  const created_at = events[0]?.created_at ?? new Date(0).toISOString();
  const record: WorkerRecord = found ?? {
    worker_id,
    display_name: null,
    intent: { kind: 'assistant' },
    profile: { kind: 'runtime_default' },
    config_bundle: null,
    requested_capabilities: [],
    workspace_refs: [],
    mount_refs: [],
    metadata: {},
    created_at,
    status: 'stopped',
    stopped_event_id: null,
  };
  await rewriteFile(fs, file(WORKER_FILES.eventIds), events.map((event) => indexEntry(event.id)).join(''));
  const unit = new WorkerUnit({
    format: FORMAT,
    batch: 0,
    ordinal: input.ordinal,
    worker: record,
    transcript,
    event_ids: events.length,
    runs_bytes: runsBytes,
    idempotency_bytes: idempotencyBytes,
    history_bytes: historyBytes,
    last_event_id: events.at(-1)?.id ?? 0,
    updated_at: events.at(-1)?.created_at ?? record.created_at,
    last_run: null,
    next_run_ordinal: 0,
    unfinished_runs: [],
  });
  await scanLines(fs, file(WORKER_FILES.runs), 0, runsBytes, (line) => {
    const stored = v.safeParse(StoredRunSchema, parseJson(line));
    if (stored.success && stored.output.worker_id === worker_id) unit.applyRun(stored.output);
  });
  // Only files this rebuild wrote need an fsync at the next checkpoint.
  unit.dirty |= SNAPSHOT_DUE | DIR_CHANGED | LOG_BITS.eventIds;
  if (transcript.count > 0) unit.dirty |= LOG_BITS.transcript | LOG_BITS.transcriptIndex;
  return { unit, record_lost: found === null };
}

/** A plain log's length after cutting an incomplete last line. */
async function logBytes(fs: FsLike, path: string): Promise<number> {
  return cutToLastLine(fs, path, (await fileSize(fs, path)) ?? 0);
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
