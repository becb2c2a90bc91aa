import type { Runtime } from '@worker-runtime/core';
import type { Logger } from './logger.js';

/** Watches a Runtime for a store failure and reports it once. */
export interface StoreWatch {
  /** Checks now (cheap; `serve` calls it after every request). */
  check(): void;
  /** Stops the periodic check. */
  stop(): void;
}

/** Options of {@link watchStoreFailure}. */
export interface StoreWatchOptions {
  runtime: Pick<Runtime, 'storeFailure'>;
  logger: Logger;
  /** How often to check between requests, in ms (default 1000): a run's write can fail with no request. */
  intervalMs?: number;
}

/**
 * Logs one `error` line (`code: store_unavailable`) the first time the Runtime's store fails: from
 * then on the Runtime accepts no changes until it is restarted, which the operator must know even
 * though the process keeps serving reads.
 */
export function watchStoreFailure({ runtime, logger, intervalMs = 1000 }: StoreWatchOptions): StoreWatch {
  let reported = false;
  function check(): void {
    const failure = runtime.storeFailure;
    if (reported || failure === null) return;
    reported = true;
    clearInterval(timer);
    const errno = failure.details?.errno;
    logger.error('store unavailable: the runtime accepts no changes until restarted', {
      code: 'store_unavailable',
      reason: failure.message,
      ...(typeof errno === 'string' ? { errno } : {}),
    });
  }
  const timer = setInterval(check, intervalMs);
  // The watch must never keep the process alive on its own.
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
