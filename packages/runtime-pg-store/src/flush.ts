import {
  type Diagnostic,
  type IdempotencyRecord,
  RuntimeError,
  type RuntimeEvent,
  type RuntimeRecord,
  type StoredRun,
  type StoreRecord,
  TERMINAL_RUN_STATUSES,
  type TranscriptEntry,
  type WorkerRecord,
} from '@worker-runtime/core';
import type { PoolClient } from 'pg';
import type { Lease } from './lease.js';

/** What one group of batches changes, table by table, with repeated replacements collapsed. */
interface GroupRows {
  runtime: RuntimeRecord | null;
  workers: Map<string, WorkerRecord>;
  /** Keyed by `worker_id/run_id`; a Map keeps first-seen order, which becomes the queue order. */
  runs: Map<string, StoredRun>;
  transcript: TranscriptEntry[];
  events: RuntimeEvent[];
  idempotency: Map<string, IdempotencyRecord>;
  diagnostics: Diagnostic[];
}

function collect(records: readonly StoreRecord[]): GroupRows {
  const rows: GroupRows = {
    runtime: null,
    workers: new Map(),
    runs: new Map(),
    transcript: [],
    events: [],
    idempotency: new Map(),
    diagnostics: [],
  };
  for (const record of records) {
    switch (record.type) {
      case 'runtime':
        rows.runtime = record.runtime;
        break;
      case 'worker':
        rows.workers.set(record.worker.worker_id, record.worker);
        break;
      case 'run':
        // One INSERT … ON CONFLICT may touch a row once: the group keeps each run's latest state.
        rows.runs.set(`${record.run.worker_id}/${record.run.run.run_id}`, record.run);
        break;
      case 'transcript':
        rows.transcript.push(record.entry);
        break;
      case 'event':
        rows.events.push(record.event);
        break;
      case 'idempotency':
        rows.idempotency.set(`${record.record.worker_id}/${record.record.key}`, record.record);
        break;
      case 'diagnostic':
        rows.diagnostics.push(record.diagnostic);
        break;
    }
  }
  return rows;
}

/** Per worker: its highest sequence and newest event in this group, to advance its counters. */
function workerCounters(rows: GroupRows): { ids: string[]; lens: number[]; events: number[]; updated: string[] } {
  const counters = new Map<string, { len: number; event: number; updated: string | null }>();
  const of = (id: string) => {
    const counter = counters.get(id) ?? { len: 0, event: 0, updated: null };
    counters.set(id, counter);
    return counter;
  };
  for (const entry of rows.transcript) {
    const counter = of(entry.worker_ref.worker_id);
    counter.len = Math.max(counter.len, entry.sequence);
  }
  for (const event of rows.events) {
    if (!event.worker_ref) continue;
    const counter = of(event.worker_ref.worker_id);
    counter.event = event.id;
    counter.updated = event.created_at;
  }
  const out = { ids: [] as string[], lens: [] as number[], events: [] as number[], updated: [] as string[] };
  for (const [id, counter] of counters) {
    out.ids.push(id);
    out.lens.push(counter.len);
    out.events.push(counter.event);
    out.updated.push(counter.updated ?? '');
  }
  return out;
}

const json = (value: unknown): string => JSON.stringify(value);

/** Renders one parameter as a SQL literal (the values are ours: strings, integers, arrays of them, null). */
function literal(client: PoolClient, value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RuntimeError('internal', 'a store value is not an integer');
    return String(value);
  }
  if (typeof value === 'string') return client.escapeLiteral(value);
  if (Array.isArray(value)) return `ARRAY[${value.map((item) => literal(client, item)).join(',')}]`;
  throw new RuntimeError('internal', 'a store value has an unexpected type');
}

/** SQLSTATE the fence (a function of the schema, see migrations.ts) raises when the lease is no longer ours. */
const LEASE_LOST = 'WR001';

/**
 * Writes one commit group as one transaction in one round trip, fenced by the lease: its first
 * statement (`fence`) locks the lease row (FOR SHARE) and raises unless the lease is still ours and
 * unexpired, so a takeover either waits for this transaction or makes it write nothing. Because the
 * whole transaction travels in one message, a paused or dying process cannot leave it open holding
 * that lock. Statements follow the foreign keys (workers before their rows); each table's rows are
 * arrays unnested server side, so a group costs the same round trip whatever its size.
 * @throws RuntimeError `store_unavailable` when the lease is no longer ours
 */
export async function flushGroup(
  client: PoolClient,
  s: string,
  lease: Lease,
  records: readonly StoreRecord[],
): Promise<void> {
  const rows = collect(records);
  const rt = lease.runtime_id;
  const statements: string[] = [];
  const add = (sql: string, params: unknown[]): void => {
    statements.push(sql.replace(/\$(\d+)/g, (_, n: string) => literal(client, params[Number(n) - 1])));
  };
  add(`SELECT ${s}.fence($1, $2, $3)`, [rt, lease.epoch, lease.holder]);
  if (rows.runtime !== null || rows.events.length > 0) {
    const last = rows.events.at(-1)?.id ?? 0;
    add(
      `UPDATE ${s}.runtimes SET record = COALESCE($2, record), last_event_id = GREATEST(last_event_id, $3) WHERE runtime_id = $1`,
      [rt, rows.runtime === null ? null : json(rows.runtime), last],
    );
  }
  if (rows.workers.size > 0) {
    const workers = [...rows.workers.values()];
    add(
      `INSERT INTO ${s}.workers (runtime_id, worker_id, record, updated_at)
       SELECT $1, w.id, w.record, w.created_at FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS w(id, record, created_at, ord)
       ORDER BY w.ord
       ON CONFLICT (runtime_id, worker_id) DO UPDATE SET record = EXCLUDED.record`,
      [rt, workers.map((w) => w.worker_id), workers.map(json), workers.map((w) => w.created_at)],
    );
  }
  if (rows.runs.size > 0) {
    const runs = [...rows.runs.values()];
    // The upsert returns each run's queue position; the newest terminal one per worker becomes its
    // `last_run` unless the worker already has a newer one.
    add(
      `WITH up AS (
         INSERT INTO ${s}.runs (runtime_id, worker_id, run_id, status, record, input)
         SELECT $1, r.worker_id, r.run_id, r.status, r.record, r.input
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
             AS r(worker_id, run_id, status, record, input, ord)
          ORDER BY r.ord
         ON CONFLICT (runtime_id, worker_id, run_id)
           DO UPDATE SET status = EXCLUDED.status, record = EXCLUDED.record, input = EXCLUDED.input
         RETURNING worker_id, position, status, record
       ), terminal AS (
         SELECT DISTINCT ON (worker_id) worker_id, position, record FROM up
          WHERE status = ANY($7::text[]) ORDER BY worker_id, position DESC
       )
       UPDATE ${s}.workers w SET last_run = t.record, last_run_position = t.position FROM terminal t
        WHERE w.runtime_id = $1 AND w.worker_id = t.worker_id
          AND (w.last_run_position IS NULL OR w.last_run_position <= t.position)`,
      [
        rt,
        runs.map((r) => r.worker_id),
        runs.map((r) => r.run.run_id),
        runs.map((r) => r.run.status),
        runs.map((r) => json(r.run)),
        runs.map((r) => (r.input === null ? null : json(r.input))),
        TERMINAL_RUN_STATUSES,
      ],
    );
  }
  if (rows.transcript.length > 0) {
    add(
      `INSERT INTO ${s}.transcript (runtime_id, worker_id, sequence, entry)
       SELECT $1, * FROM unnest($2::text[], $3::integer[], $4::text[])`,
      [
        rt,
        rows.transcript.map((e) => e.worker_ref.worker_id),
        rows.transcript.map((e) => e.sequence),
        rows.transcript.map(json),
      ],
    );
  }
  if (rows.events.length > 0) {
    add(
      `INSERT INTO ${s}.events (runtime_id, id, worker_id, event) SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[])`,
      [
        rt,
        rows.events.map((e) => e.id),
        rows.events.map((e) => e.worker_ref?.worker_id ?? null),
        rows.events.map(json),
      ],
    );
  }
  if (rows.transcript.length > 0 || rows.events.length > 0) {
    const counters = workerCounters(rows);
    add(
      `UPDATE ${s}.workers w SET transcript_len = GREATEST(w.transcript_len, c.len),
              updated_at = CASE WHEN c.event > w.last_event_id THEN c.updated ELSE w.updated_at END,
              last_event_id = GREATEST(w.last_event_id, c.event)
         FROM unnest($2::text[], $3::integer[], $4::bigint[], $5::text[]) AS c(id, len, event, updated)
        WHERE w.runtime_id = $1 AND w.worker_id = c.id`,
      [rt, counters.ids, counters.lens, counters.events, counters.updated],
    );
  }
  if (rows.idempotency.size > 0) {
    const records = [...rows.idempotency.values()];
    add(
      `INSERT INTO ${s}.idempotency (runtime_id, worker_id, key, record) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])
       ON CONFLICT (runtime_id, worker_id, key) DO UPDATE SET record = EXCLUDED.record, created_at = now()`,
      [rt, records.map((r) => r.worker_id), records.map((r) => r.key), records.map(json)],
    );
  }
  if (rows.diagnostics.length > 0) {
    add(
      `INSERT INTO ${s}.diagnostics (runtime_id, diagnostic)
       SELECT $1, d.diagnostic FROM unnest($2::text[]) WITH ORDINALITY AS d(diagnostic, ord) ORDER BY d.ord`,
      [rt, rows.diagnostics.map(json)],
    );
  }
  try {
    await client.query(`BEGIN;\n${statements.join(';\n')};\nCOMMIT`);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if ((error as { code?: string }).code === LEASE_LOST) {
      throw new RuntimeError('store_unavailable', `this process no longer owns runtime ${rt}: its lease is gone`);
    }
    throw error;
  }
}
