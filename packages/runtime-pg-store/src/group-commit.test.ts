import { generateId, type StoreRecord } from '@worker-runtime/core';
import pg from 'pg';
import { afterEach, expect, test } from 'vitest';
import { createPgStore } from './pg-store.js';
import { databaseUrl, dropSchema, freshSchema } from './test-support/pg-fixture.js';

const schema = freshSchema();
afterEach(() => dropSchema(schema));

const NOW = '2026-01-01T00:00:00.000Z';

test('concurrent commits share transactions and still land in call order', async () => {
  const store = createPgStore({ connection_string: databaseUrl(), schema });
  await store.open({
    runtime_id: 'rt',
    generate_id: generateId,
    now: NOW,
    max_diagnostics: 10,
    max_retained_events: 10,
  });
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
