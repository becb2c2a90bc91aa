import type pg from 'pg';
import { ownPool, type PgConnection } from './pg-store.js';
import { quoteIdent, storeError } from './sql.js';

/** Where a runtime is served now, as its lease says. */
export interface RuntimeLocation {
  runtime_id: string;
  /** The owner's `advertise_url`, or null when it did not set one. */
  advertise_url: string | null;
  /** The lease's fencing token: it grows by one at every change of owner. */
  epoch: number;
  /** ISO-8601; in the past when the owner closed or died and nobody has taken over yet. */
  lease_expires_at: string;
}

/**
 * Finds the process that owns `runtime_id`, for a backend routing requests by runtime id. A null
 * answer means the runtime was never opened on this database (in this schema).
 * @throws RuntimeError `store_unavailable` when the database cannot be reached
 * @example
 * const where = await locateRuntime({ connection_string: process.env.DATABASE_URL, runtime_id: 'rt-1' });
 */
export async function locateRuntime(
  options: PgConnection & { runtime_id: string; schema?: string },
): Promise<RuntimeLocation | null> {
  const s = quoteIdent(options.schema ?? 'worker_runtime');
  const pool: pg.Pool = options.pool ?? ownPool(options.connection_string);
  try {
    const { rows } = await pool.query<{ epoch: string; advertise_url: string | null; expires_at: Date }>(
      `SELECT epoch, advertise_url, expires_at FROM ${s}.leases WHERE runtime_id = $1`,
      [options.runtime_id],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      runtime_id: options.runtime_id,
      advertise_url: row.advertise_url,
      epoch: Number(row.epoch),
      lease_expires_at: row.expires_at.toISOString(),
    };
  } catch (error) {
    // Before the first open the schema may not exist yet: nobody serves the runtime.
    if ((error as { code?: string }).code === '42P01' || (error as { code?: string }).code === '3F000') return null;
    throw storeError(error, 'locate the runtime');
  } finally {
    if (!options.pool) await pool.end().catch(() => undefined);
  }
}
