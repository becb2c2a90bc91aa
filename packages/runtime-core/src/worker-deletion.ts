import { RuntimeError } from './errors.js';
import type { RuntimeContext } from './runtime-context.js';
import { type DeleteAck, type DeleteRequest, DeleteRequestSchema } from './schemas/input.js';
import type { StoreRecord } from './store.js';
import { parseOrThrow } from './validation.js';
import type { WorkerAddress } from './worker-address.js';
import { releaseWorker, stopWorker } from './worker-control.js';

/**
 * Deletes a stopped worker (SPEC §13): one batch holds the durable `worker_deleted` event and the
 * store's `worker_deleted` record, so the delete is decided by one commit and the store removes the
 * worker's transcript, runs and idempotency records before it resolves. The id stays reserved.
 * With `force`, a worker that is not stopped is stopped first, through the normal stop.
 * @throws RuntimeError `invalid_id`, `invalid_request`, `worker_not_found`, `worker_not_stopped`,
 *   `runtime_unavailable`, `store_unavailable`
 */
export async function deleteWorker(
  ctx: RuntimeContext,
  worker: WorkerAddress,
  request: DeleteRequest,
  reason = 'deleted by request',
): Promise<DeleteAck> {
  ctx.gate.assertWritable();
  const state = ctx.workers.get(worker);
  const { force = false } = parseOrThrow(DeleteRequestSchema, request ?? {}, 'delete request');
  const worker_id = state.record.worker_id;
  if (state.record.status !== 'stopped') {
    if (!force) {
      throw new RuntimeError('worker_not_stopped', `worker ${worker_id} is not stopped; stop it first or use force`);
    }
    await stopWorker(ctx, worker, { reason: 'stopped to be deleted' });
  }
  const event_id = await state.lock.run(async () => {
    ctx.gate.assertWritable();
    // A concurrent delete won the lock first.
    if (!ctx.workers.has(worker_id)) throw new RuntimeError('worker_not_found', `worker ${worker_id} does not exist`);
    const records: StoreRecord[] = [];
    const id = ctx.log.event(records, 'worker_deleted', `worker ${worker_id} deleted: ${reason}`, {
      worker: state.ref,
      data: { reason },
    });
    records.push({ type: 'worker_deleted', worker_id });
    await ctx.log.commit(records, [{ kind: 'worker_deleted', state }]);
    return id;
  });
  await releaseWorker(ctx, state);
  return { worker_ref: { ...state.ref }, status: 'deleted', event_id };
}
