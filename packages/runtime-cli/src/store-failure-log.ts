import type { Runtime } from '@worker-runtime/core';
import type { Logger } from './logger.js';

/** Options of {@link logStoreFailure}. */
export interface StoreFailureLogOptions {
  runtime: Pick<Runtime, 'onStoreFailure'>;
  logger: Logger;
}

/**
 * Logs one `error` line (`code: store_unavailable`) when the Runtime's store fails: from then on the
 * Runtime accepts no changes until it is restarted, which the operator must know even though the
 * process keeps serving reads. Returns a function that stops listening.
 */
export function logStoreFailure({ runtime, logger }: StoreFailureLogOptions): () => void {
  return runtime.onStoreFailure((failure) => {
    const errno = failure.details?.errno;
    logger.error('store unavailable: the runtime accepts no changes until restarted', {
      code: 'store_unavailable',
      reason: failure.message,
      ...(typeof errno === 'string' ? { errno } : {}),
    });
  });
}
