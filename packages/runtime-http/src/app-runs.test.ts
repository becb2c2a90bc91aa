import { describe, expect, test } from 'vitest';
import { expectError, json, useAppSetup } from './app-test-kit.js';
import { CREATE_ASSISTANT, CREATE_HOLD, eventually, TRANSPORTS } from './test-helpers.js';

const setupOver = useAppSetup();

// The REST contract (run, transcript and event routes), run against both entry points (the same assertions, byte-identical answers).
describe.each(TRANSPORTS)('over %s', (transport) => {
  const setup = setupOver(transport);

  describe('run, transcript and event routes', () => {
    test('GET runs lists runs and GET run long-polls until the run is terminal', async () => {
      const { call, engine } = await setup();
      await call('/v1/workers', { body: { ...CREATE_HOLD, worker_id: 'w' } });
      const ack = (await json(await call('/v1/workers/w/input', { body: { kind: 'user', content: 'one' } }))).ack;
      const waiting = call(`/v1/workers/w/runs/${ack.run_id}?wait_ms=10000`);
      await eventually(() => (engine.waiting === 1 ? true : undefined));
      engine.releaseAll();
      const run = (await json(await waiting)).run;
      expect(run).toMatchObject({ run_id: ack.run_id, status: 'completed', output_entries: 1 });
      const page = await json(await call('/v1/workers/w/runs?limit=10'));
      expect(page).toMatchObject({ runs: [{ run_id: ack.run_id }], next_cursor: null });
      await expectError(await call('/v1/workers/w/runs/nope'), 404, 'run_not_found');
    });

    test('GET transcript pages by start, limit and tail', async () => {
      const { call } = await setup();
      await call('/v1/workers', { body: { ...CREATE_ASSISTANT, worker_id: 'w' } });
      for (const content of ['a', 'b', 'c']) await call('/v1/workers/w/input', { body: { kind: 'system', content } });
      const page = (await json(await call('/v1/workers/w/transcript?start=1&limit=1'))).transcript;
      expect(page).toMatchObject({ start: 1, limit: 1, total_items: 3, next_start: 2, items: [{ content: 'b' }] });
      const tail = (await json(await call('/v1/workers/w/transcript?tail=2'))).transcript;
      expect(tail.items.map((e: { content: string }) => e.content)).toEqual(['b', 'c']);
      await expectError(await call('/v1/workers/w/transcript?limit=0'), 400, 'invalid_request');
      await expectError(await call('/v1/workers/w/transcript?start=0&tail=1'), 400, 'invalid_request');
      await expectError(await call('/v1/workers/w/transcript?limit=1001'), 400, 'limit_too_large');
    });

    test('GET events reads after a cursor, filters by worker and long-polls for the next event', async () => {
      const { call, runtime } = await setup();
      const all = (await json(await call('/v1/events'))).events;
      expect(all).toMatchObject({ runtime_id: runtime.runtime_id, has_more: false });
      const after = all.next_after;
      const waiting = call(`/v1/events?after=${after}&wait_ms=10000`);
      await call('/v1/workers', { body: { ...CREATE_ASSISTANT, worker_id: 'w' } });
      const next = (await json(await waiting)).events;
      expect(next.items[0]).toMatchObject({ id: after + 1, kind: 'worker_created' });
      const filtered = (await json(await call('/v1/events?worker_id=w&limit=1'))).events;
      expect(filtered).toMatchObject({ items: [{ worker_ref: { worker_id: 'w' } }], has_more: true });
      await expectError(await call('/v1/events?after=99999'), 400, 'invalid_request');
      await expectError(await call('/v1/events?worker_id=..'), 400, 'invalid_id');
    });

    test('an expired event cursor answers 410 cursor_expired', async () => {
      const { call } = await setup({ limits: { max_retained_events: 2 } });
      for (const id of ['a', 'b', 'c']) await call('/v1/workers', { body: { ...CREATE_ASSISTANT, worker_id: id } });
      const error = await expectError(await call('/v1/events?after=1'), 410, 'cursor_expired');
      expect(error.details).toHaveProperty('oldest_available');
      // after=0 means "from the oldest retained", like no cursor.
      const fromOldest = await call('/v1/events?after=0');
      expect(fromOldest.status).toBe(200);
    });
  });
});
