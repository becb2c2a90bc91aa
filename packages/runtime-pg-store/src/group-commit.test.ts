import { generateId, type RuntimeEvent, type StoreOpenRequest, type StoreRecord } from '@worker-runtime/core';
import { NOW, workerRecord } from '@worker-runtime/core/testing';
import pg from 'pg';
import { afterEach, expect, test } from 'vitest';
import { createPgStore } from './pg-store.js';
import { databaseUrl, dropSchema, freshSchema } from './test-support/pg-fixture.js';

let schema = freshSchema();
afterEach(async () => {
  await dropSchema(schema);
  schema = freshSchema();
});

const OPEN: StoreOpenRequest = {
  runtime_id: 'rt',
  generate_id: generateId,
  now: NOW,
  max_diagnostics: 10,
  max_retained_events: 10,
};

test('concurrent commits share transactions and still land in call order', async () => {
  const store = createPgStore({ connection_string: databaseUrl(), schema });
  await store.open(OPEN);
  const batches: StoreRecord[][] = Array.from({ length: 100 }, (_, i) => [
    {
      type: 'diagnostic',
      diagnostic: { id: `d${i}`, severity: 'info', code: 'test', message: `m${i}`, created_at: NOW },
    },
  ]);
  const resolved: number[] = [];
  await Promise.all(batches.map((batch, i) => store.commit(batch).then(() => resolved.push(i))));
  await store.close();
  expect(resolved).toEqual(batches.map((_, i) => i));

  // Rows written by one transaction share its id (xmin): fewer ids than commits means grouping.
  const sql = new pg.Client({ connectionString: databaseUrl() });
  await sql.connect();
  const { rows } = await sql.query(
    `SELECT diagnostic::json->>'id' AS id, xmin::text AS tx FROM "${schema}".diagnostics ORDER BY position`,
  );
  await sql.end();
  expect(rows.map((r) => r.id)).toEqual(batches.map((_, i) => `d${i}`));
  expect(new Set(rows.map((r) => r.tx)).size).toBeLessThan(batches.length / 2);
});

test('any text a client can send round-trips exactly (quotes, backslashes, $1, NUL, lone surrogates)', async () => {
  const store = createPgStore({ connection_string: databaseUrl(), schema });
  await store.open(OPEN);
  const content = "it's \\ a $1 $fence$ \u0000 ☃ \ud800 E'x' ;COMMIT; --";
  const worker_ref = { runtime_id: 'rt', worker_id: 'w' };
  await store.commit([
    {
      type: 'worker',
      worker: workerRecord('w', { display_name: content, metadata: { [content]: content } }),
    },
    { type: 'event', event: { id: 1, kind: 'transcript_appended', worker_ref, message: content, created_at: NOW } },
    {
      type: 'transcript',
      entry: { sequence: 1, worker_ref, role: 'user', content, run_id: null, event_id: 1, created_at: NOW },
    },
  ]);
  await store.close();
  const again = createPgStore({ connection_string: databaseUrl(), schema });
  const snapshot = await again.open(OPEN);
  expect(snapshot.workers[0]?.worker.display_name).toBe(content);
  expect(snapshot.workers[0]?.worker.metadata).toEqual({ [content]: content });
  expect((await again.readTranscript('w', 0, 10))[0]?.content).toBe(content);
  expect((await again.readEvents({ after: 0, limit: 10 }))[0]?.message).toBe(content);
  await again.close();
});

function event(id: number): StoreRecord {
  const event: RuntimeEvent = { id, kind: 'runtime_started', message: `e${id}`, created_at: NOW };
  return { type: 'event', event };
}

test('with retained_events the oldest event rows are deleted and older cursors expire', async () => {
  const store = createPgStore({ connection_string: databaseUrl(), schema });
  await store.open({ ...OPEN, max_retained_events: 100_000, retained_events: 5 });
  try {
    for (let id = 1; id <= 12; id++) await store.commit([event(id)]);
    const kept = await store.readEvents({ after: 7, limit: 100 });
    expect(kept.map((e) => e.id)).toEqual([8, 9, 10, 11, 12]);
    await expect(store.readEvents({ after: 3, limit: 100 })).rejects.toMatchObject({
      code: 'cursor_expired',
      details: { oldest_available: 8 },
    });
  } finally {
    await store.close();
  }
});
