import {
  DiagnosticSchema,
  PendingInputSchema,
  RunRecordSchema,
  RuntimeError,
  RuntimeRecordSchema,
  type StoredWorker,
  type StoreOpenRequest,
  type StoreSnapshot,
  WorkerRecordSchema,
} from '@worker-runtime/core';
import type { PoolClient } from 'pg';
import { decode } from './sql.js';

/**
 * Which runtime to open: the requested one, else the schema's only one, else a new one.
 * @throws RuntimeError `invalid_request` when no id was given and the schema holds several (details: runtime_ids)
 */
export async function chooseRuntimeId(client: PoolClient, s: string, request: StoreOpenRequest): Promise<string> {
  if (request.runtime_id !== undefined) return request.runtime_id;
  const { rows } = await client.query<{ runtime_id: string }>(
    `SELECT runtime_id FROM ${s}.runtimes ORDER BY runtime_id LIMIT 101`,
  );
  if (rows.length === 0) return request.generate_id();
  if (rows.length === 1) return (rows[0] as { runtime_id: string }).runtime_id;
  const ids = rows.map((row) => row.runtime_id);
  throw new RuntimeError('invalid_request', `the database holds ${ids.length} runtimes; choose one by runtime id`, {
    details: { runtime_ids: ids },
  });
}

interface WorkerRow {
  worker_id: string;
  record: string;
  transcript_len: number;
  last_event_id: string;
  updated_at: string;
  last_run: string | null;
}

/**
 * Reads what a Runtime needs to resume: one row per worker plus its unfinished runs (a partial
 * index), never transcripts or events, so the cost grows with the number of workers only.
 */
export async function readSnapshot(
  client: PoolClient,
  s: string,
  runtime_id: string,
  max_diagnostics: number,
): Promise<Omit<StoreSnapshot, 'recovery_diagnostics'>> {
  const runtime = await client.query<{ record: string; last_event_id: string }>(
    `SELECT record, last_event_id FROM ${s}.runtimes WHERE runtime_id = $1`,
    [runtime_id],
  );
  const row = runtime.rows[0];
  if (!row) throw new RuntimeError('store_unavailable', `runtime ${runtime_id} is missing from the database`);
  const workers = await client.query<WorkerRow>(
    `SELECT worker_id, record, transcript_len, last_event_id, updated_at, last_run
       FROM ${s}.workers WHERE runtime_id = $1 ORDER BY position`,
    [runtime_id],
  );
  const unfinished = await client.query<{ worker_id: string; record: string; input: string | null }>(
    `SELECT worker_id, record, input FROM ${s}.runs
      WHERE runtime_id = $1 AND status IN ('queued', 'running') ORDER BY position`,
    [runtime_id],
  );
  // Only the newest diagnostics are kept; older rows are dropped here, at open, off the commit path.
  await client.query(
    `DELETE FROM ${s}.diagnostics WHERE runtime_id = $1 AND position <= (
       SELECT position FROM ${s}.diagnostics WHERE runtime_id = $1 ORDER BY position DESC OFFSET $2 LIMIT 1)`,
    [runtime_id, max_diagnostics],
  );
  const diagnostics = await client.query<{ diagnostic: string }>(
    `SELECT diagnostic FROM ${s}.diagnostics WHERE runtime_id = $1 ORDER BY position`,
    [runtime_id],
  );

  const byId = new Map<string, StoredWorker>();
  for (const w of workers.rows) {
    byId.set(w.worker_id, {
      worker: decode(WorkerRecordSchema, w.record),
      transcript_len: w.transcript_len,
      last_event_id: Number(w.last_event_id),
      updated_at: w.updated_at,
      last_run: w.last_run === null ? null : decode(RunRecordSchema, w.last_run),
      unfinished_runs: [],
    });
  }
  for (const r of unfinished.rows) {
    byId.get(r.worker_id)?.unfinished_runs.push({
      worker_id: r.worker_id,
      run: decode(RunRecordSchema, r.record),
      input: r.input === null ? null : decode(PendingInputSchema, r.input),
    });
  }
  return {
    runtime: decode(RuntimeRecordSchema, row.record),
    workers: [...byId.values()],
    last_event_id: Number(row.last_event_id),
    diagnostics: diagnostics.rows.map((d) => decode(DiagnosticSchema, d.diagnostic)),
  };
}
