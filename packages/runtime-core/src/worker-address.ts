import { RuntimeError } from './errors.js';
import { assertValidId } from './identity.js';
import type { WorkerRef } from './schemas/common.js';

/** A worker addressed by id (within this runtime) or by its full `worker_ref`. */
export type WorkerAddress = string | WorkerRef;

/**
 * The worker id an address names on runtime `runtime_id`.
 * @throws RuntimeError `invalid_id`; `worker_not_found` for a ref of another runtime
 */
export function workerIdOf(address: WorkerAddress, runtime_id: string): string {
  let worker_id: unknown = address;
  if (typeof address === 'object' && address !== null) {
    assertValidId(address.runtime_id, 'runtime_id');
    if (address.runtime_id !== runtime_id) {
      assertValidId(address.worker_id, 'worker_id');
      throw new RuntimeError(
        'worker_not_found',
        `worker ${address.worker_id} does not belong to runtime ${runtime_id}`,
      );
    }
    worker_id = address.worker_id;
  }
  return assertValidId(worker_id, 'worker_id');
}
