import { generateId, type RuntimeEvent, type StoreOpenRequest, type StoreRecord } from '@worker-runtime/core';
import { afterEach, expect, test } from 'vitest';
import { createPgStore } from './pg-store.js';
import { databaseUrl, dropSchema, freshSchema } from './test-support/pg-fixture.js';

let schema = freshSchema();
afterEach(async () => {
  await dropSchema(schema);
  schema = freshSchema();
});

const NOW = '2026-01-01T00:00:00.000Z';
const OPEN: StoreOpenRequest = {
  runtime_id: 'rt',
  generate_id: generateId,
  now: NOW,
  max_diagnostics: 10,
  max_retained_events: 100_000,
  retained_events: 5,
};

function event(id: number): StoreRecord {
  const event: RuntimeEvent = { id, kind: 'runtime_started', message: `e${id}`, created_at: NOW };
  return { type: 'event', event };
}

test('with retained_events the oldest event rows are deleted and older cursors expire', async () => {
  const store = createPgStore({ connection_string: databaseUrl(), schema });
  await store.open(OPEN);
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
