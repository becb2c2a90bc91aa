import type { FsLike } from './fs-like.js';
import { RUNTIME_FILES, type RuntimeLayout, WORKER_FILES } from './layout.js';
import {
  adoptIdTail,
  adoptIndexedTail,
  adoptPlainTail,
  checkIdIndex,
  checkIndexedLog,
  checkPlainLog,
  type LogRepair,
  rebuildIndex,
} from './log-repair.js';
import type { FsStoreDiagnosticCode } from './store-diagnostics.js';
import { type LogSize, RUNTIME_BITS, type StoreState } from './store-state.js';
import { keyOf, workerEvents } from './worker-rebuild.js';
import { LOG_BITS, SNAPSHOT_DUE, type WorkerUnit } from './worker-unit.js';

/** Records a recovery diagnostic. */
export type Note = (code: FsStoreDiagnosticCode, message: string) => void;

/** How many workers' logs are checked at once. */
const CHECK_CONCURRENCY = 32;

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

const indexRewritten = (what: string): [FsStoreDiagnosticCode, string] => [
  'store_index_rebuilt',
  `the index of ${what} disagreed with the log past its last checkpoint; it was rebuilt from the log`,
];

const torn = (what: string, bytes: number): [FsStoreDiagnosticCode, string] => [
  'store_torn_tail_repaired',
  `${what} ended in an incomplete record (${bytes} bytes); it was truncated`,
];

/** The message for a repaired indexed log (`what`: "the transcript of worker w", "the event log"). */
function describe(what: string, repair: LogRepair): [FsStoreDiagnosticCode, string] {
  const lost = repair.lost > 0 ? `; ${plural(repair.lost, 'entry', 'entries')} could not be recovered` : '';
  if (repair.cut > 0) {
    return [
      'store_torn_tail_repaired',
      `${what} was cut short (${repair.cut} bytes missing); its index was rebuilt${lost}`,
    ];
  }
  return ['store_index_rebuilt', `the index of ${what} was damaged; it was rebuilt from the log${lost}`];
}

/**
 * Checks the global event log against `recorded` (from the checkpoint, or the index when that is
 * lost), rebuilding its index when they disagree.
 */
export async function checkEventLog(
  fs: FsLike,
  layout: RuntimeLayout,
  recorded: LogSize,
  note: Note,
): Promise<LogSize> {
  const repair = await checkIndexedLog(fs, eventPaths(layout), recorded, keyOf('id'));
  if (repair) note(...describe('the event log', repair));
  const adopted = await adoptIndexedTail(fs, eventPaths(layout), repair?.size ?? recorded, keyOf('id'));
  if (adopted?.torn) note(...torn('the event log', adopted.torn));
  else if (adopted?.index_rewritten) note(...indexRewritten('the event log'));
  return adopted?.size ?? repair?.size ?? recorded;
}

/**
 * After replay: makes the event log at least `floor` entries long (the newest id a worker
 * snapshot names), padding with empty entries, so no event id is ever handed out twice.
 */
export async function padEventLog(
  fs: FsLike,
  layout: RuntimeLayout,
  state: StoreState,
  floor: number,
  note: Note,
): Promise<void> {
  if (floor <= state.events.count) return;
  note('store_index_rebuilt', `the event log ended before event ${floor}, which a worker names; ids continue after it`);
  state.events = (await rebuildIndex(fs, eventPaths(layout), floor, state.events.bytes, keyOf('id'))).size;
  state.readable_events = { ...state.events };
  state.dirty |= RUNTIME_BITS.events | RUNTIME_BITS.eventsIndex;
}

function eventPaths(layout: RuntimeLayout): { data: string; index: string } {
  return { data: layout.file(RUNTIME_FILES.events), index: layout.file(RUNTIME_FILES.eventsIndex) };
}

/**
 * Checks each worker's logs against its snapshot (a size, and one 16-byte read per index):
 * rebuilds a damaged transcript or event id index from its log, cuts a torn runs or idempotency
 * log after its last complete line. Repaired units are marked for a new snapshot. O(workers)
 * when nothing is damaged.
 */
export async function checkWorkerLogs(
  fs: FsLike,
  layout: RuntimeLayout,
  state: StoreState,
  units: readonly WorkerUnit[],
  note: Note,
): Promise<boolean> {
  let repaired = false;
  const check = async (unit: WorkerUnit): Promise<void> => {
    const id = unit.worker_id;
    const file = (name: (typeof WORKER_FILES)[keyof typeof WORKER_FILES]) => layout.workerFile(id, name);
    const paths = { data: file(WORKER_FILES.transcript), index: file(WORKER_FILES.transcriptIndex) };
    const transcript = await checkIndexedLog(
      fs,
      paths,
      { count: unit.transcript_count, bytes: unit.transcript_bytes },
      keyOf('sequence'),
    );
    if (transcript) note(...describe(`the transcript of worker ${id}`, transcript));
    const recorded = transcript?.size ?? { count: unit.transcript_count, bytes: unit.transcript_bytes };
    const adopted = await adoptIndexedTail(fs, paths, recorded, keyOf('sequence'));
    if (adopted?.torn) note(...torn(`the transcript of worker ${id}`, adopted.torn));
    else if (adopted?.index_rewritten) note(...indexRewritten(`the transcript of worker ${id}`));
    const size = adopted?.size ?? recorded;
    if (transcript || adopted) {
      unit.transcript_count = unit.readable_transcript_count = size.count;
      unit.transcript_bytes = unit.readable_transcript_bytes = size.bytes;
      unit.dirty |= SNAPSHOT_DUE | LOG_BITS.transcript | LOG_BITS.transcriptIndex;
    }
    const ids = await checkIdIndex(
      fs,
      file(WORKER_FILES.eventIds),
      { count: unit.event_ids, last_id: unit.last_event_id },
      async () => (await workerEvents(fs, layout, state.events, id)).map((event) => event.id),
    );
    if (ids) {
      note('store_index_rebuilt', `the event index of worker ${id} was damaged; it was rebuilt from the event log`);
      unit.event_ids = ids.length;
      unit.readable_event_ids = ids.length;
      unit.last_event_id = Math.max(unit.last_event_id, ids.at(-1) ?? 0);
      unit.dirty |= SNAPSHOT_DUE | LOG_BITS.eventIds;
    }
    const idPath = file(WORKER_FILES.eventIds);
    const moreIds = await adoptIdTail(
      fs,
      idPath,
      { count: unit.event_ids, last_id: unit.last_event_id },
      state.events.count,
    );
    if (moreIds) {
      if (moreIds.torn) note(...torn(`the event index of worker ${id}`, moreIds.torn));
      unit.event_ids = unit.readable_event_ids = moreIds.count;
      unit.last_event_id = moreIds.last_id;
      unit.dirty |= SNAPSHOT_DUE | LOG_BITS.eventIds;
    }
    for (const [log, name] of [
      ['runs', 'runs log'],
      ['idempotency', 'idempotency log'],
      ['history', 'record history'],
    ] as const) {
      const bytes = log === 'runs' ? unit.runs_bytes : log === 'history' ? unit.history_bytes : unit.idempotency_bytes;
      const short = await checkPlainLog(fs, file(WORKER_FILES[log]), bytes);
      if (short) {
        note(
          'store_torn_tail_repaired',
          `the ${name} of worker ${id} was cut short (${short.cut} bytes missing); it was truncated after its last complete record`,
        );
      }
      const longer = short ? null : await adoptPlainTail(fs, file(WORKER_FILES[log]), bytes);
      if (longer?.torn) note(...torn(`the ${name} of worker ${id}`, longer.torn));
      const cut = short ?? longer;
      if (!cut) continue;
      if (log === 'runs') unit.runs_bytes = unit.readable_runs_bytes = cut.size.bytes;
      else if (log === 'history') unit.history_bytes = cut.size.bytes;
      else {
        unit.idempotency_bytes = unit.readable_idempotency_bytes = cut.size.bytes;
        // Keys whose records were cut off are unknown now; a replay of one must not run again.
        if (short || longer?.torn) unit.idempotency_damaged = true;
      }
      unit.dirty |= SNAPSHOT_DUE | LOG_BITS[log];
    }
    if (unit.dirty & SNAPSHOT_DUE) repaired = true;
  };
  for (let i = 0; i < units.length; i += CHECK_CONCURRENCY) {
    await Promise.all(units.slice(i, i + CHECK_CONCURRENCY).map(check));
  }
  if (repaired) state.dirty |= RUNTIME_BITS.workersDir;
  return repaired;
}
