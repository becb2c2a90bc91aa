import { writeCheckpoint } from './checkpoint.js';
import { trimDue, trimEvents } from './event-trim.js';
import type { FsLike } from './fs-like.js';
import { expireRequested } from './idempotency-expiry.js';
import type { OpenState } from './open-state.js';

/**
 * Whether the group whose newest event id is `newest` must be exclusive (no later group appended
 * while it is published): it deletes a worker (the caller knows), brings the event log to a trim,
 * or an idempotency expiry was requested.
 */
export function exclusiveDue(newest: number, open: OpenState): boolean {
  return trimDue(newest, open.state, open.retained) || open.state.expiry_requested;
}

/**
 * What follows an exclusive group, with no later group appended meanwhile: write every queued log
 * line, trim the event log if due, checkpoint, then rewrite the idempotency logs an expiry asked for.
 * After a delete the journal still holds the worker's older records: the checkpoint empties it, so
 * no file keeps the deleted worker's data; the rewrites rely on it too (empty journal, logs fsynced).
 */
export async function runExclusiveSteps(fs: FsLike, open: OpenState): Promise<void> {
  await open.checkpoints.idle();
  await open.materializer.flush();
  await trimEvents(fs, open);
  await writeCheckpoint(fs, open, open.journalEnd);
  await expireRequested(fs, open);
}
