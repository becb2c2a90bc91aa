import { isRuntimeError, type RuntimeError, type RuntimeStore } from '@worker-runtime/core';
import { createFsStore } from '@worker-runtime/fs-store';
import { createPgStore } from '@worker-runtime/pg-store';
import type { Logger } from './logger.js';
import type { ServeConfig } from './serve-config.js';

/** What `serve` needs to hear from its store besides the Runtime's own failure path. */
export interface StoreEvents {
  /** The postgres store lost its lease: another process owns the runtime now. */
  onLeaseLost(error: RuntimeError): void;
}

/** The store `config.store` names; undefined for memory (the Runtime's default). */
export function createStore(config: ServeConfig, events: StoreEvents): RuntimeStore | undefined {
  if (config.store === 'memory') return undefined;
  if (config.store === 'postgres' && config.postgres) {
    const { database_url, advertise_url, lease_ms } = config.postgres;
    return createPgStore({
      connection_string: database_url,
      lease_ms,
      ...(advertise_url !== undefined ? { advertise_url } : {}),
      on_lease_lost: (error) => events.onLeaseLost(error),
    });
  }
  // The store's findings (corrupt records, torn tails, stale locks) reach the log as the Runtime
  // records them: see logStoreDiagnostics.
  return createFsStore({ data_dir: config.data_dir });
}

/**
 * Runs `open` until it stops failing `store_locked` when `config.postgres.standby` is set: a standby
 * retries a few times per lease, so it takes over soon after the owner's lease expires. Without
 * standby, or for any other error, the first failure is thrown.
 */
export async function openAsStandby<T>(config: ServeConfig, logger: Logger, open: () => Promise<T>): Promise<T> {
  const standby = config.postgres?.standby === true;
  const pollMs = Math.max(50, Math.floor((config.postgres?.lease_ms ?? 0) / 10));
  let waiting = false;
  for (;;) {
    try {
      return await open();
    } catch (error) {
      if (!standby || !isRuntimeError(error) || error.code !== 'store_locked') throw error;
      if (!waiting) {
        waiting = true;
        const holder = error.details?.advertise_url;
        logger.info('standing by: another process owns the runtime', {
          code: 'store_locked',
          ...(typeof holder === 'string' ? { holder } : {}),
        });
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
}
