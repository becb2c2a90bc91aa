import { decodeCursor, encodeCursor } from './cursor.js';
import { isRuntimeError, RuntimeError } from './errors.js';
import { assertValidId } from './identity.js';
import { DEFAULT_PAGE_SIZE, DEFAULT_TRANSCRIPT_PAGE_SIZE, pageLimit } from './limits.js';
import { longPoll, type PollAttempt } from './long-poll.js';
import type { RuntimeContext } from './runtime-context.js';
import { type EventBatch, type EventQuery, EventQuerySchema, type RuntimeEvent } from './schemas/event.js';
import {
  type GetRunOptions,
  GetRunOptionsSchema,
  type ListRunsQuery,
  ListRunsQuerySchema,
  type RunPage,
  type RunRecord,
  TERMINAL_RUN_STATUSES,
} from './schemas/run.js';
import { type TranscriptPage, type TranscriptQuery, TranscriptQuerySchema } from './schemas/transcript.js';
import { type ListWorkersQuery, ListWorkersQuerySchema, type WorkerPage } from './schemas/worker.js';
import { parseOrThrow } from './validation.js';
import type { WorkerAddress } from './worker-address.js';
import type { WorkerChange } from './worker-registry.js';
import { toSummary, type WorkerState, workerStatus } from './worker-state.js';

// Reads and paging. Live state (active and queued runs, counters) comes from the worker registry,
// history from the store, bounded by what the Runtime has seen committed.

/** Workers in creation order, optionally only those with `status`. */
export function listWorkers(ctx: RuntimeContext, query: ListWorkersQuery): WorkerPage {
  const q = parseOrThrow(ListWorkersQuerySchema, query, 'query');
  const limit = pageLimit(q.limit, ctx.limits.max_list_page, DEFAULT_PAGE_SIZE);
  const after = q.cursor === undefined ? null : decodeCursor(q.cursor);
  if (after !== null && !ctx.workers.has(after)) throw new RuntimeError('invalid_request', 'cursor is not valid');
  const workers = [];
  let passed = after === null;
  let next_cursor: string | null = null;
  for (const state of ctx.workers.values()) {
    if (!passed) {
      passed = state.record.worker_id === after;
      continue;
    }
    if (q.status !== undefined && workerStatus(state) !== q.status) continue;
    if (workers.length === limit) {
      next_cursor = encodeCursor(workers[workers.length - 1]?.worker_id as string);
      break;
    }
    workers.push(toSummary(state, ctx));
  }
  return { workers, next_cursor };
}

/** A run's latest state when memory has it (active, queued, or the last run), else undefined. */
function liveRun(state: WorkerState, run_id: string): RunRecord | undefined {
  if (state.active?.record.run_id === run_id) return { ...state.active.record };
  const queued = state.queue.find((q) => q.record.run_id === run_id);
  if (queued) return { ...queued.record };
  if (state.last_run?.run_id === run_id) return { ...state.last_run };
  return undefined;
}

/** A run's latest state: live when active or queued, else from the store. */
async function findRun(ctx: RuntimeContext, state: WorkerState, run_id: string): Promise<RunRecord | null> {
  return liveRun(state, run_id) ?? ctx.store.getRun(state.record.worker_id, run_id);
}

/** Changes that never end a run: they do not wake a `getRun` waiting for one to end. */
const NOT_ENDING: ReadonlySet<WorkerChange['kind']> = new Set([
  'worker_added',
  'run_queued',
  'run_started',
  'entry_appended',
  'run_updated',
]);
const mayEndRun = (change: WorkerChange): boolean => !NOT_ENDING.has(change.kind);

/** One run; with `wait_ms`, waits (at most `limits.max_wait_ms`) until it is terminal. */
export function getRun(
  ctx: RuntimeContext,
  worker: WorkerAddress,
  run_id: string,
  options: GetRunOptions,
): Promise<RunRecord> {
  const state = ctx.workers.get(worker);
  assertValidId(run_id, 'run_id');
  const { wait_ms = 0 } = parseOrThrow(GetRunOptionsSchema, options, 'options');
  const answer = (run: RunRecord | null): PollAttempt<RunRecord> => {
    if (!run) {
      throw new RuntimeError('run_not_found', `run ${run_id} does not exist on worker ${state.record.worker_id}`);
    }
    return { done: TERMINAL_RUN_STATUSES.includes(run.status), value: run };
  };
  // A live run is looked at synchronously: no commit can land between reading the version and
  // looking, so the wait that follows is not woken at once for nothing.
  return longPoll(
    ctx.log.changes,
    Math.min(wait_ms, ctx.limits.max_wait_ms),
    () => {
      const live = liveRun(state, run_id);
      return live ? answer(live) : ctx.store.getRun(state.record.worker_id, run_id).then(answer);
    },
    { key: state, wakes: mayEndRun },
  );
}

/** A worker's runs, oldest first. */
export async function listRuns(ctx: RuntimeContext, worker: WorkerAddress, query: ListRunsQuery): Promise<RunPage> {
  const state = ctx.workers.get(worker);
  const q = parseOrThrow(ListRunsQuerySchema, query, 'query');
  const limit = pageLimit(q.limit, ctx.limits.max_list_page, DEFAULT_PAGE_SIZE);
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
  if (after !== undefined && !(await findRun(ctx, state, after))) {
    throw new RuntimeError('invalid_request', 'cursor is not valid');
  }
  const runs = await ctx.store.listRuns(state.record.worker_id, {
    ...(after !== undefined ? { after_run_id: after } : {}),
    limit: limit + 1,
  });
  // The store's view of a run is replaced by the live one while it is active.
  const page = runs
    .slice(0, limit)
    .map((run) => (state.active?.record.run_id === run.run_id ? { ...state.active.record } : run));
  const last = page[page.length - 1];
  return { runs: page, next_cursor: runs.length > limit && last ? encodeCursor(last.run_id) : null };
}

/** A page of a worker's transcript. `start` is 0-based; `tail=N` returns the last N entries. */
export async function transcript(
  ctx: RuntimeContext,
  worker: WorkerAddress,
  query: TranscriptQuery,
): Promise<TranscriptPage> {
  const state = ctx.workers.get(worker);
  const q = parseOrThrow(TranscriptQuerySchema, query, 'query');
  const total = state.transcript_len;
  const max = ctx.limits.max_transcript_page;
  let start: number;
  let limit: number;
  if (q.tail !== undefined) {
    if (q.start !== undefined) throw new RuntimeError('invalid_request', 'use either start or tail, not both');
    limit = pageLimit(q.limit ?? q.tail, max, DEFAULT_TRANSCRIPT_PAGE_SIZE);
    start = Math.max(0, total - q.tail);
  } else {
    start = q.start ?? 0;
    limit = pageLimit(q.limit, max, DEFAULT_TRANSCRIPT_PAGE_SIZE);
  }
  const count = Math.max(0, Math.min(limit, total - start));
  const items = count > 0 ? await ctx.store.readTranscript(state.record.worker_id, start, count) : [];
  const end = start + items.length;
  return { worker_ref: state.ref, start, limit, total_items: total, items, next_start: end < total ? end : null };
}

/** Events after `after` (default 0), oldest first; with `wait_ms`, waits while nothing is after `after`. */
export async function readEvents(ctx: RuntimeContext, query: EventQuery): Promise<EventBatch> {
  if (query.worker_id !== undefined) assertValidId(query.worker_id, 'worker_id');
  const q = parseOrThrow(EventQuerySchema, query, 'query');
  const limit = pageLimit(q.limit, ctx.limits.max_event_batch, DEFAULT_PAGE_SIZE);
  // No cursor (or 0) means "from the oldest event still retained", so such a read never expires.
  let after = q.after ?? 0;
  const last = ctx.log.lastEventId;
  if (after > last) {
    throw new RuntimeError('invalid_request', `cursor ${after} is ahead of the event log (last event ${last})`, {
      details: { last_event_id: last },
    });
  }
  const read = async (): Promise<RuntimeEvent[]> => {
    for (;;) {
      try {
        return await ctx.store.readEvents({
          after,
          limit: limit + 1,
          ...(q.worker_id !== undefined ? { worker_id: q.worker_id } : {}),
        });
      } catch (error) {
        const oldest =
          isRuntimeError(error) && error.code === 'cursor_expired' ? error.details?.oldest_available : undefined;
        if ((q.after ?? 0) !== 0 || typeof oldest !== 'number' || oldest - 1 <= after) throw error;
        after = oldest - 1;
      }
    }
  };
  return longPoll(ctx.log.changes, Math.min(q.wait_ms ?? 0, ctx.limits.max_wait_ms), async () => {
    const watermark = ctx.log.lastEventId;
    const fetched = (await read()).filter((event) => event.id <= watermark);
    const items = fetched.slice(0, limit);
    const newest = items[items.length - 1];
    const batch = {
      runtime_id: ctx.runtime_id,
      items,
      next_after: newest ? newest.id : after,
      has_more: fetched.length > limit,
    };
    return { done: items.length > 0, value: batch };
  });
}
