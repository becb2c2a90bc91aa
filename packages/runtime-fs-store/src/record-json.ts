import { isValidId, RuntimeError, type StoreRecord } from '@worker-runtime/core';
import type { JournalAppend, JournalBatch } from './journal.js';

/** The property of each record type that holds its value (`{"type":"run","run":{…}}`). */
const VALUE_KEY: Readonly<Record<StoreRecord['type'], string>> = {
  runtime: 'runtime',
  worker: 'worker',
  run: 'run',
  transcript: 'entry',
  event: 'event',
  idempotency: 'record',
  diagnostic: 'diagnostic',
  worker_deleted: 'worker_id',
};

/** A batch serialized once, when `commit` is called: the journal line and every log line come from it. */
export interface SerializedBatch {
  records: readonly StoreRecord[];
  /** JSON of each record's value (`record.run`, `record.entry`, …): the line its log file gets. */
  values: string[];
  /** Where each of `values` starts in the JSON of the whole `records` array (in characters). */
  offsets: number[];
  /** JSON of each whole record (`{"type":…,…}`): joined by commas in brackets, the `records` array the journal holds. */
  parts: string[];
  /** The highest event id among the records (0 when none). */
  newest_event: number;
  /** Whether a record deletes a worker. */
  deletes: boolean;
}

/** The id of the worker a record belongs to, if any. */
export function workerOf(record: StoreRecord): string | null {
  switch (record.type) {
    case 'worker':
      return record.worker.worker_id;
    case 'run':
      return record.run.worker_id;
    case 'transcript':
      return record.entry.worker_ref.worker_id;
    case 'idempotency':
      return record.record.worker_id;
    case 'worker_deleted':
      return record.worker_id;
    case 'event':
      return record.event.worker_ref?.worker_id ?? null;
    default:
      return null;
  }
}

/**
 * The workers a batch creates (its `worker` records naming a worker neither `known` nor being
 * `creating`).
 * @throws RuntimeError `worker_not_found` when another record names a worker that is none of those
 */
export function createdWorkers(
  records: readonly StoreRecord[],
  known: KnownIds,
  creating: ReadonlySet<string>,
): string[] {
  const created: string[] = [];
  for (const record of records) {
    const worker_id = workerOf(record);
    if (worker_id === null || known.has(worker_id) || creating.has(worker_id)) continue;
    if (record.type === 'worker') created.push(worker_id);
    else if (!created.includes(worker_id) && record.type !== 'event') {
      throw new RuntimeError('worker_not_found', `worker ${worker_id} is not in the store`);
    }
  }
  return created;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isPosition(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

/** Worker ids the store already holds. */
type KnownIds = ReadonlySet<string> | ReadonlyMap<string, unknown>;

/** A worker the store holds had its id checked when it was created; the regex is not run again. */
function validId(known: KnownIds, id: unknown): boolean {
  return (typeof id === 'string' && known.has(id)) || isValidId(id);
}

/**
 * The checks the store's own bookkeeping depends on: a known type with an object value, worker ids
 * that are safe path components, and the keys that place an entry in an indexed log. Records come
 * from the Runtime, which builds them from validated input, so the full schema is not re-run on the
 * write path (every line read back from disk is validated).
 */
function malformed(record: StoreRecord, known: KnownIds): string | null {
  const type = (record as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !Object.hasOwn(VALUE_KEY, type)) return 'a malformed record';
  const value = (record as unknown as Record<string, unknown>)[VALUE_KEY[type as StoreRecord['type']]];
  if (type === 'worker_deleted') return typeof value === 'string' && validId(known, value) ? null : 'invalid_id';
  if (!isObject(value)) return `a malformed ${type} record`;
  switch (record.type) {
    case 'worker':
      if (!validId(known, record.worker.worker_id)) return 'invalid_id';
      break;
    case 'run':
      if (!validId(known, record.run.worker_id)) return 'invalid_id';
      if (!isObject(record.run.run) || typeof record.run.run.run_id !== 'string') return 'a malformed run record';
      break;
    case 'transcript':
      if (!isObject(record.entry.worker_ref) || !validId(known, record.entry.worker_ref.worker_id)) return 'invalid_id';
      if (!isPosition(record.entry.sequence)) return 'a malformed transcript record';
      break;
    case 'event':
      if (record.event.worker_ref != null && !validId(known, record.event.worker_ref.worker_id)) return 'invalid_id';
      if (!isPosition(record.event.id) || typeof record.event.created_at !== 'string') {
        return 'a malformed event record';
      }
      break;
    case 'idempotency':
      if (!validId(known, record.record.worker_id)) return 'invalid_id';
      if (typeof record.record.key !== 'string') return 'a malformed idempotency record';
      break;
  }
  return null;
}

/**
 * Checks and serializes a batch. Serializing at call time also fixes what the journal will hold,
 * whatever happens to the objects later.
 * @throws RuntimeError `invalid_request` (a malformed record), `invalid_id` (a worker id that is not a safe id)
 */
export function serializeBatch(records: readonly StoreRecord[], known: KnownIds): SerializedBatch {
  const values: string[] = [];
  const offsets: number[] = [];
  const parts: string[] = [];
  // Past the opening `[`; each part is followed by a `,` (or the closing `]`).
  let offset = 1;
  let newest_event = 0;
  let deletes = false;
  for (const record of records) {
    const problem = malformed(record, known);
    if (problem === 'invalid_id') throw new RuntimeError('invalid_id', 'a record names an invalid worker id');
    if (problem !== null) throw new RuntimeError('invalid_request', `the store refused ${problem}`);
    const key = VALUE_KEY[record.type];
    let value: string;
    try {
      value = JSON.stringify((record as unknown as Record<string, unknown>)[key]);
    } catch {
      throw new RuntimeError('invalid_request', `the store refused a ${record.type} record it cannot serialize`);
    }
    values.push(value);
    if (record.type === 'event' && record.event.id > newest_event) newest_event = record.event.id;
    else if (record.type === 'worker_deleted') deletes = true;
    // `type` is one of the fixed names above, so it needs no escaping.
    const part = `{"type":"${record.type}","${key}":${value}}`;
    offsets.push(offset + part.length - value.length - 1);
    offset += part.length + 1;
    parts.push(part);
  }
  return { records, values, offsets, parts, newest_event, deletes };
}

/** The JSON of one record's value, for a batch read back from the journal. */
export function valueJson(record: StoreRecord): string {
  return JSON.stringify((record as unknown as Record<string, unknown>)[VALUE_KEY[record.type]]);
}

/** A group's batches numbered for the journal from `first` on, its newest event id and whether one deletes a worker. */
export function journalBatches(
  group: readonly SerializedBatch[],
  first: number,
): { batches: (JournalBatch & { parts: readonly string[] })[]; newest: number; deletes: boolean } {
  let newest = 0;
  let deletes = false;
  const batches = group.map((serialized, i) => {
    newest = Math.max(newest, serialized.newest_event);
    deletes ||= serialized.deletes;
    return { batch: first + i, records: serialized.records, values: serialized.values, parts: serialized.parts };
  });
  return { batches, newest, deletes };
}

/** When the group's journal append was all ASCII, points each batch's log lines at its bytes (see `JournalBatch.encoded`). */
export function locateValues(
  batches: JournalBatch[],
  group: readonly SerializedBatch[],
  appended: JournalAppend,
): void {
  const { bytes, starts } = appended;
  if (!starts) return;
  for (const [i, batch] of batches.entries()) {
    batch.encoded = { bytes, base: starts[i] as number, offsets: (group[i] as SerializedBatch).offsets };
  }
}
