import { randomUUID } from 'node:crypto';
import { RuntimeError } from '@worker-runtime/core';
import type { Pool, PoolClient } from 'pg';
import { storeError } from './sql.js';

/** The lease this process holds on one runtime: its fencing token is `epoch` (with `holder`). */
export interface Lease {
  runtime_id: string;
  epoch: number;
  holder: string;
}

/** How a previous lease ended, as seen by the process that acquired the next one. */
export interface AcquiredLease extends Lease {
  /** The previous holder's lease expired without being released (it died, hung or lost the database). */
  taken_over: { advertise_url: string | null } | null;
}

interface LeaseRow {
  epoch: string;
  live: boolean;
  released: boolean;
  advertise_url: string | null;
  expires_at: Date;
}

/**
 * Takes the lease on `runtime_id` inside the caller's transaction: creates it (epoch 1), or bumps
 * the epoch of a released or expired one. Expiry is judged by the database clock, so hosts'
 * clocks never need to agree.
 * @throws RuntimeError `store_locked` while another holder's lease is live (details: its advertise_url)
 */
export async function acquireLease(
  client: PoolClient,
  s: string,
  options: { runtime_id: string; lease_ms: number; advertise_url: string | null },
): Promise<AcquiredLease> {
  const holder = randomUUID();
  const { runtime_id, lease_ms, advertise_url } = options;
  const existing = await client.query<LeaseRow>(
    `SELECT epoch, expires_at > now() AS live, released, advertise_url, expires_at
       FROM ${s}.leases WHERE runtime_id = $1 FOR UPDATE`,
    [runtime_id],
  );
  const row = existing.rows[0];
  if (row?.live) {
    throw new RuntimeError('store_locked', `runtime ${runtime_id} is owned by another process`, {
      details: { advertise_url: row.advertise_url, lease_expires_at: row.expires_at.toISOString() },
    });
  }
  const values = [runtime_id, holder, advertise_url, lease_ms];
  const expires = `now() + $4 * interval '1 millisecond'`;
  if (row) {
    await client.query(
      `UPDATE ${s}.leases SET epoch = epoch + 1, holder = $2, advertise_url = $3, expires_at = ${expires},
         released = false WHERE runtime_id = $1`,
      values,
    );
  } else {
    // Two first opens of one runtime race on the primary key; the loser finds the winner's lease.
    const created = await client.query(
      `INSERT INTO ${s}.leases (runtime_id, epoch, holder, advertise_url, expires_at)
         VALUES ($1, 1, $2, $3, ${expires}) ON CONFLICT (runtime_id) DO NOTHING`,
      values,
    );
    if (created.rowCount !== 1) {
      throw new RuntimeError('store_locked', `runtime ${runtime_id} is owned by another process`, {
        details: { advertise_url: null },
      });
    }
  }
  const epoch = row ? Number(row.epoch) + 1 : 1;
  return {
    runtime_id,
    epoch,
    holder,
    taken_over: row && !row.released ? { advertise_url: row.advertise_url } : null,
  };
}

/** Extends the lease by `lease_ms`; false when it is no longer ours (a newer epoch took it). */
export async function renewLease(pool: Pool, s: string, lease: Lease, lease_ms: number): Promise<boolean> {
  const result = await pool.query(
    `UPDATE ${s}.leases SET expires_at = now() + $4 * interval '1 millisecond'
      WHERE runtime_id = $1 AND epoch = $2 AND holder = $3`,
    [lease.runtime_id, lease.epoch, lease.holder, lease_ms],
  );
  return result.rowCount === 1;
}

/** Ends the lease now so the next owner need not wait for it to expire; a no-op if it is no longer ours. */
export async function releaseLease(pool: Pool, s: string, lease: Lease): Promise<void> {
  await pool.query(
    `UPDATE ${s}.leases SET expires_at = now(), released = true
      WHERE runtime_id = $1 AND epoch = $2 AND holder = $3`,
    [lease.runtime_id, lease.epoch, lease.holder],
  );
}

/**
 * Renews a lease every `lease_ms / 3` and calls `onLost` once when it is gone: a newer epoch holds
 * it, or renewals failed for so long that the lease may have expired (another process may own the
 * runtime by now). Time is measured on the monotonic clock, so a paused process counts its pause.
 */
export function keepLease(options: {
  pool: Pool;
  schema: string;
  lease: Lease;
  lease_ms: number;
  onLost: (error: RuntimeError) => void;
}): { stop(): void } {
  const { pool, schema, lease, lease_ms, onLost } = options;
  let renewedAt = performance.now();
  let stopped = false;
  let renewing = false;
  const lost = (why: string): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    onLost(new RuntimeError('store_unavailable', `this process no longer owns runtime ${lease.runtime_id}: ${why}`));
  };
  const timer = setInterval(
    () => {
      if (renewing || stopped) return;
      // Checked before renewing: after a pause past the lease, a renewal could succeed only because
      // nobody took over yet, yet another process may be opening it right now.
      if (performance.now() - renewedAt >= lease_ms) return lost('its lease expired before it could be renewed');
      renewing = true;
      const started = performance.now();
      renewLease(pool, schema, lease, lease_ms)
        .then(
          (ours) => {
            if (!ours) return lost('another process took its lease over');
            renewedAt = started;
          },
          (error) => {
            // A failed renewal is retried at the next tick until the lease runs out.
            if (performance.now() - renewedAt >= lease_ms) lost(storeError(error, 'renew the lease').message);
          },
        )
        .finally(() => {
          renewing = false;
        });
    },
    Math.max(1, Math.floor(lease_ms / 3)),
  );
  timer.unref();
  return {
    stop(): void {
      stopped = true;
      clearInterval(timer);
    },
  };
}
