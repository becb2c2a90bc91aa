import { type EventFiles, eventFiles, slotOf, toIds, toSlots } from './event-log.js';
import type { FsLike } from './fs-like.js';
import { type RuntimeLayout, WORKER_FILES } from './layout.js';
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
import { INDEX_WIDTH } from './offset-index.js';
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
export async function checkEventLog(fs: FsLike, files: EventFiles, recorded: LogSize, note: Note): Promise<LogSize> {
  const slots = toSlots(recorded, files.base);
  const repair = await checkIndexedLog(fs, files, slots, slotOf(files.base));
  if (repair) note(...describe('the event log', repair));
  const adopted = await adoptIndexedTail(fs, files, repair?.size ?? slots, slotOf(files.base));
  if (adopted?.torn) note(...torn('the event log', adopted.torn));
  else if (adopted?.index_rewritten) note(...indexRewritten('the event log'));
  return toIds(adopted?.size ?? repair?.size ?? slots, files.base);
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
  note(
    'store_index_rebuilt',
    `the event log ended before event ${floor}, which a worker or the id reservation names; ids continue after it`,
  );
  const files = eventFiles(layout, state.events_base);
  const rebuilt = await rebuildIndex(fs, files, floor - files.base, state.events.bytes, slotOf(files.base));
  state.events = toIds(rebuilt.size, files.base);
  state.readable_events = { ...state.events };
  state.dirty |= RUNTIME_BITS.events | RUNTIME_BITS.eventsIndex;
}

/** What the per-worker checks share. */
interface CheckContext {
  fs: FsLike;
  layout: RuntimeLayout;
  state: StoreState;
  note: Note;
}

const PLAIN_LOGS = [
  ['runs', 'runs log'],
  ['idempotency', 'idempotency log'],
  ['history', 'record history'],
] as const;

/**
 * Checks each worker's logs against its snapshot: one `stat` per file, and more only where a
 * length differs from what was recorded (content damage that keeps the length is caught by reads,
 * which heal an index that does not frame whole lines). Rebuilds a damaged transcript or event id
 * index from its log, cuts a torn log after its last complete line, adopts complete lines written
 * past the snapshot. Repaired units are marked for a new snapshot. Returns whether any was.
 */
export async function checkWorkerLogs(
  fs: FsLike,
  layout: RuntimeLayout,
  state: StoreState,
  units: readonly WorkerUnit[],
  note: Note,
): Promise<boolean> {
  const ctx: CheckContext = { fs, layout, state, note };
  let repaired = false;
  const check = async (unit: WorkerUnit): Promise<void> => {
    const recorded = {
      transcript: unit.transcript_bytes,
      transcriptIndex: unit.transcript_count * INDEX_WIDTH,
      eventIds: unit.event_ids * INDEX_WIDTH,
      runs: unit.runs_bytes,
      idempotency: unit.idempotency_bytes,
      history: unit.history_bytes,
    };
    // A file recorded empty holds nothing acknowledged that the journal cannot restore: no stat.
    const size = async (name: keyof typeof recorded) =>
      recorded[name] === 0 ? 0 : ((await fs.size(layout.workerFile(unit.worker_id, WORKER_FILES[name]))) ?? 0);
    const [data, index, ids, ...plain] = await Promise.all(
      (['transcript', 'transcriptIndex', 'eventIds', 'runs', 'idempotency', 'history'] as const).map(size),
    );
    if (data !== recorded.transcript || index !== recorded.transcriptIndex) await checkTranscript(ctx, unit);
    if (ids !== recorded.eventIds) await checkEventIds(ctx, unit);
    for (const [i, [log, name]] of PLAIN_LOGS.entries()) {
      if (plain[i] !== plainBytes(unit, log)) await checkPlain(ctx, unit, log, name);
    }
    if (unit.dirty & SNAPSHOT_DUE) repaired = true;
  };
  for (let i = 0; i < units.length; i += CHECK_CONCURRENCY) {
    await Promise.all(units.slice(i, i + CHECK_CONCURRENCY).map(check));
  }
  if (repaired) state.dirty |= RUNTIME_BITS.workersDir;
  return repaired;
}

async function checkTranscript({ fs, layout, note }: CheckContext, unit: WorkerUnit): Promise<void> {
  const id = unit.worker_id;
  const paths = {
    data: layout.workerFile(id, WORKER_FILES.transcript),
    index: layout.workerFile(id, WORKER_FILES.transcriptIndex),
  };
  const recorded = { count: unit.transcript_count, bytes: unit.transcript_bytes };
  const repair = await checkIndexedLog(fs, paths, recorded, keyOf('sequence'));
  if (repair) note(...describe(`the transcript of worker ${id}`, repair));
  const adopted = await adoptIndexedTail(fs, paths, repair?.size ?? recorded, keyOf('sequence'));
  if (adopted?.torn) note(...torn(`the transcript of worker ${id}`, adopted.torn));
  else if (adopted?.index_rewritten) note(...indexRewritten(`the transcript of worker ${id}`));
  const size = adopted?.size ?? repair?.size ?? recorded;
  unit.transcript_count = unit.readable_transcript_count = size.count;
  unit.transcript_bytes = unit.readable_transcript_bytes = size.bytes;
  unit.dirty |= SNAPSHOT_DUE | LOG_BITS.transcript | LOG_BITS.transcriptIndex;
}

async function checkEventIds({ fs, layout, state, note }: CheckContext, unit: WorkerUnit): Promise<void> {
  const id = unit.worker_id;
  const path = layout.workerFile(id, WORKER_FILES.eventIds);
  const ids = await checkIdIndex(fs, path, { count: unit.event_ids, last_id: unit.last_event_id }, async () =>
    (await workerEvents(fs, eventFiles(layout, state.events_base).data, state.events, id)).map((event) => event.id),
  );
  if (ids) {
    note('store_index_rebuilt', `the event index of worker ${id} was damaged; it was rebuilt from the event log`);
    unit.event_ids = ids.length;
    unit.last_event_id = Math.max(unit.last_event_id, ids.at(-1) ?? 0);
  }
  const more = await adoptIdTail(fs, path, { count: unit.event_ids, last_id: unit.last_event_id }, state.events.count);
  if (more) {
    if (more.torn) note(...torn(`the event index of worker ${id}`, more.torn));
    unit.event_ids = more.count;
    unit.last_event_id = more.last_id;
  }
  unit.readable_event_ids = unit.event_ids;
  unit.dirty |= SNAPSHOT_DUE | LOG_BITS.eventIds;
}

function plainBytes(unit: WorkerUnit, log: (typeof PLAIN_LOGS)[number][0]): number {
  return log === 'runs' ? unit.runs_bytes : log === 'history' ? unit.history_bytes : unit.idempotency_bytes;
}

async function checkPlain(
  { fs, layout, note }: CheckContext,
  unit: WorkerUnit,
  log: (typeof PLAIN_LOGS)[number][0],
  name: string,
): Promise<void> {
  const id = unit.worker_id;
  const path = layout.workerFile(id, WORKER_FILES[log]);
  const bytes = plainBytes(unit, log);
  const short = await checkPlainLog(fs, path, bytes);
  if (short) {
    note(
      'store_torn_tail_repaired',
      `the ${name} of worker ${id} was cut short (${short.cut} bytes missing); it was truncated after its last complete record`,
    );
  }
  const longer = short ? null : await adoptPlainTail(fs, path, bytes);
  if (longer?.torn) note(...torn(`the ${name} of worker ${id}`, longer.torn));
  const kept = (short ?? longer)?.size.bytes ?? bytes;
  if (log === 'runs') unit.runs_bytes = unit.readable_runs_bytes = kept;
  else if (log === 'history') unit.history_bytes = kept;
  else {
    unit.idempotency_bytes = unit.readable_idempotency_bytes = kept;
    // Adopted or cut records' times are unknown: the next expiry sweep scans the log.
    if (kept > 0) unit.idempotency_due = '';
    // Keys whose records were cut off are unknown now; a replay of one must not run again.
    if (short || longer?.torn) unit.idempotency_damaged = true;
  }
  unit.dirty |= SNAPSHOT_DUE | LOG_BITS[log];
}
