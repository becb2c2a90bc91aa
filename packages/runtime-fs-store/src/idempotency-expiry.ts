import type { IdempotencyRecord } from '@worker-runtime/core';
import type { FsLike } from './fs-like.js';
import { compareTimes, type RewriteContext, rewriteIdempotencyLog } from './idempotency-rewrite.js';
import type { StoreState } from './store-state.js';
import { SNAPSHOT_DUE, type WorkerUnit } from './worker-unit.js';

// `expireIdempotency(before)` (retention.idempotency_ttl_ms). Expired records vanish from lookups at
// once: the store keeps the latest cutoff (`StoreState.idempotency_before`, persisted in
// `checkpoint.json`) and a record made before it reads as absent. Their bytes and key-index
// entries are reclaimed by rewriting the worker's log (`idempotency-rewrite.ts`), but only when that
// pays: each worker keeps one time (`WorkerUnit.idempotency_due`), and a sweep rewrites only the
// workers whose time the cutoff passed. So a sweep costs a scan of memory (O(workers), no file
// read) and touches only the logs that have something to drop, and a steadily used worker's log is
// rewritten about once per half its retention, not at every sweep.

/**
 * Logs rewritten per sweep at most (the longest due first), so one sweep holds the commits up only
 * so long; the rest are due at the next sweep. With the default sweep interval (a minute) and
 * retention (a day), that keeps up with ~46,000 steadily used workers.
 */
const MAX_REWRITES_PER_SWEEP = 64;

/** Whether `unit`'s idempotency log is due for a rewrite at cutoff `before`. */
function due(unit: WorkerUnit, before: string): boolean {
  // A damaged log keeps its records: a key it lost is refused by its events, an expired one found
  // here reads as absent, which dropping it would turn into a refusal.
  return (
    unit.idempotency_due !== null &&
    unit.idempotency_due < before &&
    unit.idempotency_bytes > 0 &&
    !unit.idempotency_damaged
  );
}

/**
 * Records the cutoff (lookups skip older records from now on) and, when some worker's log is due
 * for a rewrite, makes the next group exclusive and commits an empty batch so one comes: the rewrite
 * runs after that group's checkpoint ({@link expireRequested}). Resolves once that group is
 * published.
 */
export function requestExpiry(state: StoreState, before: string, commit: () => Promise<void>): Promise<void> {
  // The last cutoff asked for, not the highest: one from a clock that ran ahead would otherwise hide
  // every record made after the clock is back, until real time passes it (the other stores only
  // delete, so they keep those). Records it already dropped stay dropped, as in the other stores.
  state.idempotency_before = before;
  for (const unit of state.workers.values()) {
    if (!due(unit, before)) continue;
    state.expiry_requested = true;
    return commit();
  }
  return Promise.resolve();
}

/** `record`, or null when it was made before the expiry cutoff. */
export function unexpired(record: IdempotencyRecord | null, before: string | null): IdempotencyRecord | null {
  return record?.created_at !== undefined && before !== null && record.created_at < before ? null : record;
}

/**
 * Rewrites the logs of the workers due, the longest due first, at most
 * {@link MAX_REWRITES_PER_SWEEP}. Runs in an exclusive group's publish, after its checkpoint. A
 * rewrite that fails (no room for the new log, say) is given up: the worker keeps its log in
 * memory and on disk as it was and stays due. Its snapshot may already claim the new log with the
 * swap flag; the next snapshot (due now) claims the old one again, and the new log is removed, so
 * an open before it keeps the old log and adopts what was appended to it (`idempotency-rewrite.ts`).
 * So the store goes on; only the failed disk steps are lost.
 */
export async function expireRequested(fs: FsLike, ctx: RewriteContext): Promise<void> {
  const { state } = ctx;
  const before = state.idempotency_before;
  if (!state.expiry_requested) return;
  state.expiry_requested = false;
  if (before === null) return;
  const units = [...state.workers.values()].filter((unit) => due(unit, before));
  // Due times are ISO-8601 strings ('' when unknown, first): they sort as times.
  units.sort((a, b) => compareTimes(a.idempotency_due as string, b.idempotency_due as string));
  for (const unit of units.slice(0, MAX_REWRITES_PER_SWEEP)) {
    await rewriteIdempotencyLog(fs, ctx, unit, before).catch(() => {
      unit.dirty |= SNAPSHOT_DUE;
    });
  }
}
