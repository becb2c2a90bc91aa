import {
  type IdempotencyRecord,
  IdempotencyRecordSchema,
  type RunRecord,
  RunRecordSchema,
  RuntimeError,
  type RuntimeEvent,
  RuntimeEventSchema,
  type RuntimeStore,
  type StoreOpenRequest,
  type StoreRecord,
  type StoreSnapshot,
  type TranscriptEntry,
  TranscriptEntrySchema,
} from '@worker-runtime/core';
import pg from 'pg';
import { flushGroup } from './flush.js';
import { acquireLease, keepLease, type Lease, releaseLease } from './lease.js';
import { migrate } from './migrations.js';
import { chooseRuntimeId, readSnapshot } from './snapshot.js';
import { decode, quoteIdent, storeError } from './sql.js';
import { storeDiagnostic } from './store-diagnostics.js';

/** Where the store connects: a connection string (the store owns its pool) or a pool you own. */
export type PgConnection =
  | { connection_string: string; pool?: undefined }
  | { pool: pg.Pool; connection_string?: undefined };

/** Options of {@link createPgStore}. */
export type PgStoreOptions = PgConnection & {
  /** PostgreSQL schema holding the tables (created at open). Default `worker_runtime`. */
  schema?: string;
  /** How long a lease lasts without renewal; it is renewed every `lease_ms / 3`. Default 10 000. */
  lease_ms?: number;
  /** Where backends reach this process (shown by `locateRuntime` and in `store_locked`). */
  advertise_url?: string;
  /** Called once when this process loses its lease; every later commit fails `store_unavailable`. */
  on_lease_lost?: (error: RuntimeError) => void;
};

/** A pool of our own: a few connections (commits hold one, reads and renewals share the rest). */
export function ownPool(connection_string: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: connection_string, max: 4 });
  // An idle connection that breaks must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return pool;
}

interface Waiter {
  records: readonly StoreRecord[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * A RuntimeStore on PostgreSQL. One process owns a runtime at a time through a fenced lease (SPEC
 * §15); commits that arrive while a transaction is running share the next one (group commit).
 */
export class PgStore implements RuntimeStore {
  readonly kind = 'postgres';
  readonly #options: PgStoreOptions;
  readonly #schema: string;
  readonly #leaseMs: number;
  #pool: pg.Pool | null = null;
  #client: pg.PoolClient | null = null;
  #lease: Lease | null = null;
  #keeper: { stop(): void } | null = null;
  #failure: RuntimeError | null = null;
  #waiting: Waiter[] = [];
  #draining: Promise<void> | null = null;

  constructor(options: PgStoreOptions) {
    this.#options = options;
    this.#schema = quoteIdent(options.schema ?? 'worker_runtime');
    this.#leaseMs = options.lease_ms ?? 10_000;
    if (!Number.isInteger(this.#leaseMs) || this.#leaseMs < 100) {
      throw new RuntimeError('invalid_request', 'lease_ms must be an integer of at least 100');
    }
  }

  /**
   * Migrates the schema, takes the runtime's lease and reads the snapshot.
   * @throws RuntimeError `store_locked` while another process holds a live lease (details: its advertise_url)
   * @throws RuntimeError `store_unavailable` when the database cannot be reached
   */
  async open(request: StoreOpenRequest): Promise<StoreSnapshot> {
    if (this.#lease) throw new RuntimeError('store_locked', 'this store is already open');
    const pool = this.#options.pool ?? ownPool(this.#options.connection_string);
    this.#pool = pool;
    try {
      const client = await pool.connect();
      this.#client = client;
      client.on('error', this.#onClientError);
      await migrate(client, this.#schema.slice(1, -1));
      const runtime_id = await chooseRuntimeId(client, this.#schema, request);
      await client.query(`BEGIN; SET LOCAL lock_timeout = ${this.#leaseMs}`);
      let acquired: Awaited<ReturnType<typeof acquireLease>>;
      try {
        acquired = await acquireLease(client, this.#schema, {
          runtime_id,
          lease_ms: this.#leaseMs,
          advertise_url: this.#options.advertise_url ?? null,
        });
        const record = { runtime_id, display_name: request.display_name ?? null, created_at: request.now };
        await client.query(
          `INSERT INTO ${this.#schema}.runtimes (runtime_id, record) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [runtime_id, JSON.stringify(record)],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        // A lock we could not get within a lease means a live holder stuck in a transaction.
        if ((error as { code?: string }).code === '55P03') {
          throw new RuntimeError('store_locked', `runtime ${runtime_id} is owned by another process`);
        }
        throw error;
      }
      const { taken_over, ...lease } = acquired;
      this.#lease = lease;
      this.#failure = null;
      const snapshot = await readSnapshot(client, this.#schema, runtime_id, request.max_diagnostics);
      this.#keeper = keepLease({
        pool,
        schema: this.#schema,
        lease,
        lease_ms: this.#leaseMs,
        onLost: (error) => {
          this.#fail(error);
          this.#options.on_lease_lost?.(error);
        },
      });
      const from = taken_over?.advertise_url ? ` from ${taken_over.advertise_url}` : '';
      const recovery_diagnostics = taken_over
        ? [
            storeDiagnostic(
              'warning',
              'store_lease_taken_over',
              `took over the expired lease of runtime ${runtime_id}${from} (epoch ${lease.epoch})`,
              request.now,
            ),
          ]
        : [];
      return { ...snapshot, recovery_diagnostics };
    } catch (error) {
      await this.#release();
      throw storeError(error, 'open the PostgreSQL store');
    }
  }

  /** Resolves once the batch is committed; see the ordering rules of {@link RuntimeStore}. */
  commit(records: readonly StoreRecord[]): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (!this.#lease) return Promise.reject(new RuntimeError('store_unavailable', 'the store is closed'));
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ records, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  // Group commit: batches that arrive while a transaction runs wait and share the next one; groups
  // commit, and their promises settle, in call order. After a failure every waiter fails too.
  async #drain(): Promise<void> {
    await Promise.resolve();
    while (this.#waiting.length > 0) {
      const group = this.#waiting;
      this.#waiting = [];
      try {
        if (this.#failure) throw this.#failure;
        const client = this.#client as pg.PoolClient;
        const lease = this.#lease as Lease;
        await flushGroup(
          client,
          this.#schema,
          lease,
          group.flatMap((waiter) => waiter.records),
        );
        for (const waiter of group) waiter.resolve();
      } catch (error) {
        const failure = storeError(error, 'commit to PostgreSQL');
        this.#fail(new RuntimeError('store_unavailable', failure.message, { details: failure.details ?? {} }));
        for (const waiter of group) waiter.reject(this.#failure);
      }
    }
    this.#draining = null;
  }

  readonly #onClientError = (error: Error): void => this.#fail(storeError(error, 'keep the database connection'));

  #fail(error: RuntimeError): void {
    this.#failure ??= error.code === 'store_unavailable' ? error : new RuntimeError('store_unavailable', error.message);
  }

  async readTranscript(worker_id: string, start: number, limit: number): Promise<TranscriptEntry[]> {
    const rows = await this.#read<{ entry: string }>(
      `SELECT entry FROM ${this.#schema}.transcript
        WHERE runtime_id = $1 AND worker_id = $2 AND sequence > $3 AND sequence <= $3 + $4 ORDER BY sequence`,
      [worker_id, start, limit],
    );
    return rows.map((row) => decode(TranscriptEntrySchema, row.entry));
  }

  async readEvents(query: { after: number; limit: number; worker_id?: string }): Promise<RuntimeEvent[]> {
    const byWorker = query.worker_id !== undefined;
    const rows = await this.#read<{ event: string }>(
      `SELECT event FROM ${this.#schema}.events WHERE runtime_id = $1 AND id > $2
         ${byWorker ? 'AND worker_id = $4' : ''} ORDER BY id LIMIT $3`,
      byWorker ? [query.after, query.limit, query.worker_id] : [query.after, query.limit],
    );
    return rows.map((row) => decode(RuntimeEventSchema, row.event));
  }

  async getRun(worker_id: string, run_id: string): Promise<RunRecord | null> {
    const rows = await this.#read<{ record: string }>(
      `SELECT record FROM ${this.#schema}.runs WHERE runtime_id = $1 AND worker_id = $2 AND run_id = $3`,
      [worker_id, run_id],
    );
    return rows[0] ? decode(RunRecordSchema, rows[0].record) : null;
  }

  async listRuns(worker_id: string, query: { after_run_id?: string; limit: number }): Promise<RunRecord[]> {
    const after = query.after_run_id;
    // An unknown `after_run_id` yields no rows (the subquery is NULL), as the memory store does.
    const rows = await this.#read<{ record: string }>(
      `SELECT record FROM ${this.#schema}.runs WHERE runtime_id = $1 AND worker_id = $2
         ${after === undefined ? '' : `AND position > (SELECT position FROM ${this.#schema}.runs WHERE runtime_id = $1 AND worker_id = $2 AND run_id = $4)`}
        ORDER BY position LIMIT $3`,
      after === undefined ? [worker_id, query.limit] : [worker_id, query.limit, after],
    );
    return rows.map((row) => decode(RunRecordSchema, row.record));
  }

  async getIdempotency(worker_id: string, key: string): Promise<IdempotencyRecord | null> {
    const rows = await this.#read<{ record: string }>(
      `SELECT record FROM ${this.#schema}.idempotency WHERE runtime_id = $1 AND worker_id = $2 AND key = $3`,
      [worker_id, key],
    );
    return rows[0] ? decode(IdempotencyRecordSchema, rows[0].record) : null;
  }

  // Reads go through the pool, beside the commit connection, and keep working after a commit failed.
  async #read<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    const pool = this.#pool;
    const lease = this.#lease;
    if (!pool || !lease) throw new RuntimeError('store_unavailable', 'the store is closed');
    try {
      return (await pool.query<R>(sql, [lease.runtime_id, ...params])).rows;
    } catch (error) {
      throw storeError(error, 'read from PostgreSQL');
    }
  }

  /** Waits for pending commits, releases the lease (so the next owner need not wait) and disconnects. */
  async close(): Promise<void> {
    while (this.#draining) await this.#draining;
    await this.#release();
  }

  async #release(): Promise<void> {
    this.#keeper?.stop();
    this.#keeper = null;
    const pool = this.#pool;
    const lease = this.#lease;
    this.#lease = null;
    this.#pool = null;
    // Guarded by epoch and holder: a no-op when the lease was already lost.
    if (pool && lease) await releaseLease(pool, this.#schema, lease).catch(() => undefined);
    this.#client?.off('error', this.#onClientError);
    this.#client?.release();
    this.#client = null;
    if (pool && !this.#options.pool) await pool.end().catch(() => undefined);
  }
}

/**
 * Creates a PostgreSQL store; nothing connects until the Runtime opens it.
 * @example
 * const runtime = await Runtime.open({ runtime_id: 'rt-1', store: createPgStore({ connection_string: process.env.DATABASE_URL }) });
 */
export function createPgStore(options: PgStoreOptions): PgStore {
  return new PgStore(options);
}
