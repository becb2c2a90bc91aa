import { RuntimeError } from '@worker-runtime/core';
import type { PoolClient } from 'pg';
import { quoteIdent } from './sql.js';

/**
 * The schema, as numbered migrations applied once each, in order. Every table is keyed by
 * `runtime_id` (one schema holds any number of runtimes); worker-owned rows reference their worker
 * with ON DELETE CASCADE, so deleting a worker is one DELETE, and events are keyed by id, so
 * trimming old ones is one range DELETE.
 */
const MIGRATIONS: readonly ((s: string) => string)[] = [
  (s) => `
    CREATE TABLE ${s}.leases (
      runtime_id text PRIMARY KEY,
      epoch bigint NOT NULL,
      holder uuid NOT NULL,
      advertise_url text,
      expires_at timestamptz NOT NULL,
      released boolean NOT NULL DEFAULT false
    );
    CREATE TABLE ${s}.runtimes (
      runtime_id text PRIMARY KEY,
      record text NOT NULL,
      last_event_id bigint NOT NULL DEFAULT 0
    );
    CREATE TABLE ${s}.workers (
      runtime_id text NOT NULL REFERENCES ${s}.runtimes ON DELETE CASCADE,
      worker_id text NOT NULL,
      position bigserial NOT NULL,
      record text NOT NULL,
      transcript_len integer NOT NULL DEFAULT 0,
      last_event_id bigint NOT NULL DEFAULT 0,
      updated_at text NOT NULL,
      last_run text,
      last_run_position bigint,
      PRIMARY KEY (runtime_id, worker_id)
    );
    CREATE INDEX workers_order ON ${s}.workers (runtime_id, position);
    CREATE TABLE ${s}.runs (
      runtime_id text NOT NULL,
      worker_id text NOT NULL,
      run_id text NOT NULL,
      position bigserial NOT NULL,
      status text NOT NULL,
      record text NOT NULL,
      input text,
      PRIMARY KEY (runtime_id, worker_id, run_id),
      FOREIGN KEY (runtime_id, worker_id) REFERENCES ${s}.workers ON DELETE CASCADE
    );
    CREATE INDEX runs_order ON ${s}.runs (runtime_id, worker_id, position);
    CREATE INDEX runs_unfinished ON ${s}.runs (runtime_id, position) WHERE status IN ('queued', 'running');
    CREATE TABLE ${s}.transcript (
      runtime_id text NOT NULL,
      worker_id text NOT NULL,
      sequence integer NOT NULL,
      entry text NOT NULL,
      PRIMARY KEY (runtime_id, worker_id, sequence),
      FOREIGN KEY (runtime_id, worker_id) REFERENCES ${s}.workers ON DELETE CASCADE
    );
    CREATE TABLE ${s}.events (
      runtime_id text NOT NULL REFERENCES ${s}.runtimes ON DELETE CASCADE,
      id bigint NOT NULL,
      worker_id text,
      event text NOT NULL,
      PRIMARY KEY (runtime_id, id)
    );
    CREATE INDEX events_by_worker ON ${s}.events (runtime_id, worker_id, id) WHERE worker_id IS NOT NULL;
    CREATE TABLE ${s}.idempotency (
      runtime_id text NOT NULL,
      worker_id text NOT NULL,
      key text NOT NULL,
      record text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (runtime_id, worker_id, key),
      FOREIGN KEY (runtime_id, worker_id) REFERENCES ${s}.workers ON DELETE CASCADE
    );
    CREATE TABLE ${s}.diagnostics (
      runtime_id text NOT NULL REFERENCES ${s}.runtimes ON DELETE CASCADE,
      position bigserial NOT NULL,
      diagnostic text NOT NULL,
      PRIMARY KEY (runtime_id, position)
    );
    -- The write fence of every commit: locks the lease row, raises unless it is still the caller's.
    CREATE FUNCTION ${s}.fence(p_runtime_id text, p_epoch bigint, p_holder uuid) RETURNS void
    LANGUAGE plpgsql AS $fence$
    BEGIN
      PERFORM 1 FROM ${s}.leases
        WHERE runtime_id = p_runtime_id AND epoch = p_epoch AND holder = p_holder AND expires_at > now() FOR SHARE;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'lease lost' USING ERRCODE = 'WR001';
      END IF;
    END $fence$;`,
];

/** The schema version this package writes. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * Brings `schema` up to {@link SCHEMA_VERSION}. A transaction-scoped advisory lock (keyed by the
 * schema name) makes processes that open at once apply each migration exactly once: the others
 * wait, then find nothing left to do.
 */
export async function migrate(client: PoolClient, schema: string): Promise<void> {
  const s = quoteIdent(schema);
  // The usual case, an up-to-date schema, needs no lock and no DDL (nor the CREATE privilege).
  const present = await client.query<{ version: number | null }>(
    `SELECT CASE WHEN to_regclass($1) IS NULL THEN NULL ELSE 0 END AS version`,
    [`${s}.migrations`],
  );
  if (present.rows[0]?.version !== null) {
    const { rows } = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${s}.migrations`,
    );
    if (rows[0]?.version === MIGRATIONS.length) return;
  }
  await client.query('BEGIN');
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('worker_runtime.migrate:' || $1))", [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${s}.migrations`,
    );
    const current = rows[0]?.version ?? 0;
    // A newer process migrated past what this one knows: writing with an older layout could corrupt it.
    if (current > MIGRATIONS.length) {
      throw new RuntimeError(
        'store_unavailable',
        `the database schema is at version ${current}, newer than this version of the store understands (${MIGRATIONS.length})`,
      );
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await client.query((MIGRATIONS[version - 1] as (s: string) => string)(s));
      await client.query(`INSERT INTO ${s}.migrations (version) VALUES ($1)`, [version]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
