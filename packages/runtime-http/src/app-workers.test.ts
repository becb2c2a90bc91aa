import { describe, expect, test } from 'vitest';
import { expectError, json, useAppSetup } from './app-test-kit.js';
import { AUTH, CREATE_ASSISTANT, CREATE_HOLD, FaultyStore, TRANSPORTS } from './test-helpers.js';

const setupOver = useAppSetup();

// The REST contract (runtime and worker routes), run against both entry points (the same assertions, byte-identical answers).
describe.each(TRANSPORTS)('over %s', (transport) => {
  const setup = setupOver(transport);

  describe('runtime routes', () => {
    test('GET /v1/runtime answers the summary in a runtime envelope', async () => {
      const { call, runtime } = await setup();
      const response = await call('/v1/runtime');
      expect(response.status).toBe(200);
      const body = await json(response);
      expect(body.runtime.runtime_id).toBe(runtime.runtime_id);
      expect(body.runtime.limits.max_body_bytes).toBe(2 * 1024 * 1024);
    });

    test('GET /v1/diagnostics answers the diagnostics list', async () => {
      const { call } = await setup();
      await call('/v1/workers', { body: CREATE_ASSISTANT });
      const body = await json(await call('/v1/diagnostics'));
      expect(body.diagnostics.map((d: { code: string }) => d.code)).toContain('worker.tools_less');
    });

    test('GET /healthz and /readyz answer a bare status without a token', async () => {
      const { app } = await setup();
      expect(await json(await app.request('/healthz'))).toEqual({ status: 'ok' });
      expect(await json(await app.request('/readyz'))).toEqual({ status: 'ready' });
    });

    test('GET /readyz answers 503 runtime_unavailable with Retry-After once the runtime closes', async () => {
      const { app, runtime } = await setup();
      await runtime.close();
      const response = await app.request('/readyz');
      await expectError(response, 503, 'runtime_unavailable');
      expect(response.headers.get('retry-after')).toBe('5');
    });

    test('GET /readyz answers 503 store_unavailable with Retry-After once the store can no longer write', async () => {
      const store = new FaultyStore();
      const { app, call, runtime } = await setup({ store });
      expect((await app.request('/readyz')).status).toBe(200);
      store.failCommits = true;
      await expectError(await call('/v1/workers', { body: CREATE_ASSISTANT }), 503, 'store_unavailable');
      expect(runtime.storeFailure).not.toBeNull();
      const response = await app.request('/readyz');
      const error = await expectError(response, 503, 'store_unavailable');
      expect(response.headers.get('retry-after')).toBe('5');
      expect(error.message).not.toContain('/var/data');
      // Liveness is unaffected: the process still answers.
      expect((await app.request('/healthz')).status).toBe(200);
    });

    test('GET /v1/openapi.json serves the OpenAPI 3.1 document', async () => {
      const { call } = await setup();
      const body = await json(await call('/v1/openapi.json'));
      expect(body.openapi).toBe('3.1.0');
      expect(Object.keys(body.paths)).toContain('/v1/workers/{worker_id}/runs/{run_id}');
    });
  });

  describe('worker routes', () => {
    test('POST /v1/workers creates a worker (201) and GET shows it', async () => {
      const { call } = await setup();
      const created = await call('/v1/workers', {
        body: { ...CREATE_ASSISTANT, worker_id: 'w1', metadata: { a: 'b' } },
      });
      expect(created.status).toBe(201);
      expect((await json(created)).worker).toMatchObject({ worker_id: 'w1', status: 'idle', metadata: { a: 'b' } });
      const shown = await call('/v1/workers/w1');
      expect(shown.status).toBe(200);
      expect((await json(shown)).worker.worker_id).toBe('w1');
    });

    test('GET /v1/workers/{id} answers the current state after every change (cached by revision)', async () => {
      const { call, runtime } = await setup();
      await call('/v1/workers', { body: { ...CREATE_ASSISTANT, worker_id: 'w' } });
      const first = (await json(await call('/v1/workers/w'))).worker;
      expect((await json(await call('/v1/workers/w'))).worker).toEqual(first);
      await call('/v1/workers/w/input', { body: { kind: 'system', content: 'note' } });
      const second = (await json(await call('/v1/workers/w'))).worker;
      expect(second).toEqual(await runtime.getWorker('w'));
      expect(second.transcript_len).toBe(first.transcript_len + 1);
      expect(second.last_event_id).toBeGreaterThan(first.last_event_id);
      await call('/v1/workers/w/stop', { method: 'POST' });
      expect((await json(await call('/v1/workers/w'))).worker.status).toBe('stopped');
    });

    test('GET /v1/workers pages in creation order with status filter and cursor', async () => {
      const { call } = await setup();
      for (const id of ['a', 'b', 'c']) await call('/v1/workers', { body: { ...CREATE_ASSISTANT, worker_id: id } });
      await call('/v1/workers/b/stop', { method: 'POST' });
      const first = await json(await call('/v1/workers?limit=2'));
      expect(first.workers.map((w: { worker_id: string }) => w.worker_id)).toEqual(['a', 'b']);
      const second = await json(await call(`/v1/workers?limit=2&cursor=${first.next_cursor}`));
      expect(second).toMatchObject({ workers: [{ worker_id: 'c' }], next_cursor: null });
      const stopped = await json(await call('/v1/workers?status=stopped'));
      expect(stopped.workers.map((w: { worker_id: string }) => w.worker_id)).toEqual(['b']);
    });

    test('POST input answers 202 with the ack, 200 when replayed, 409 idempotency_conflict on a different body', async () => {
      const { call } = await setup();
      await call('/v1/workers', { body: { ...CREATE_ASSISTANT, worker_id: 'w' } });
      const input = { kind: 'user', content: 'hello', idempotency_key: 'k1' };
      const accepted = await call('/v1/workers/w/input', { body: input });
      expect(accepted.status).toBe(202);
      const ack = (await json(accepted)).ack;
      expect(ack).toMatchObject({ replayed: false, run_status: expect.any(String) });
      const replayed = await call('/v1/workers/w/input', { body: input });
      expect(replayed.status).toBe(200);
      expect((await json(replayed)).ack).toEqual({ ...ack, replayed: true });
      await expectError(
        await call('/v1/workers/w/input', { body: { ...input, content: 'other' } }),
        409,
        'idempotency_conflict',
      );
    });

    test('a system input is appended without a run', async () => {
      const { call } = await setup();
      await call('/v1/workers', { body: { ...CREATE_ASSISTANT, worker_id: 'w' } });
      const ack = (await json(await call('/v1/workers/w/input', { body: { kind: 'system', content: 'be brief' } })))
        .ack;
      expect(ack).toMatchObject({ run_id: null, run_status: null, transcript_sequence: 1 });
    });

    test('busy, queue and stopped conflicts answer 409 with their codes', async () => {
      const { call } = await setup({ limits: { max_queued_inputs: 1 } });
      await call('/v1/workers', { body: { ...CREATE_HOLD, worker_id: 'w' } });
      const first = (await json(await call('/v1/workers/w/input', { body: { kind: 'user', content: 'one' } }))).ack;
      const busy = await expectError(
        await call('/v1/workers/w/input', { body: { kind: 'user', content: 'two' } }),
        409,
        'worker_busy',
      );
      expect(busy.details.active_run_id).toBe(first.run_id);
      const queued = await call('/v1/workers/w/input', { body: { kind: 'user', content: 'two', on_busy: 'enqueue' } });
      expect((await json(queued)).ack.queue_position).toBe(1);
      await expectError(
        await call('/v1/workers/w/input', { body: { kind: 'user', content: 'three', on_busy: 'enqueue' } }),
        409,
        'queue_full',
      );
      const stopped = await call('/v1/workers/w/stop', { body: { reason: 'done' } });
      expect((await json(stopped)).ack).toMatchObject({ status: 'stopped', run_id: first.run_id });
      const again = await json(await call('/v1/workers/w/stop', { method: 'POST' }));
      expect(again.ack.status).toBe('stopped');
      await expectError(
        await call('/v1/workers/w/input', { body: { kind: 'user', content: 'x' } }),
        409,
        'worker_stopped',
      );
    });

    test('POST cancel accepts an empty body without a content type and cancels the active run', async () => {
      const { app, call } = await setup();
      await call('/v1/workers', { body: { ...CREATE_HOLD, worker_id: 'w' } });
      const ack = (await json(await call('/v1/workers/w/input', { body: { kind: 'user', content: 'one' } }))).ack;
      const cancelled = await app.request('/v1/workers/w/cancel', { method: 'POST', headers: AUTH });
      expect(cancelled.status).toBe(200);
      expect((await json(cancelled)).ack).toMatchObject({ run_id: ack.run_id, status: 'idle' });
      const run = (await json(await call(`/v1/workers/w/runs/${ack.run_id}`))).run;
      expect(run.status).toBe('cancelled');
      const idle = (await json(await call('/v1/workers/w/cancel', { body: { reason: 'nothing' } }))).ack;
      expect(idle).toMatchObject({ run_id: null, event_id: null });
    });

    test('creation conflicts and unsupported requests answer 409 and 422 codes', async () => {
      const { call } = await setup({ limits: { max_workers: 1 } });
      await call('/v1/workers', { body: { ...CREATE_ASSISTANT, worker_id: 'w' } });
      await expectError(
        await call('/v1/workers', { body: { ...CREATE_ASSISTANT, worker_id: 'w' } }),
        409,
        'duplicate_worker',
      );
      await expectError(await call('/v1/workers', { body: CREATE_ASSISTANT }), 409, 'capacity_exceeded');
      await expectError(
        await call('/v1/workers', { body: { ...CREATE_ASSISTANT, profile: { kind: 'named', value: 'nope' } } }),
        422,
        'unknown_profile',
      );
      await expectError(
        await call('/v1/workers', { body: { ...CREATE_ASSISTANT, config_bundle: { id: 'b' } } }),
        422,
        'unsupported_operation',
      );
      await expectError(
        await call('/v1/workers', { body: { ...CREATE_ASSISTANT, requested_capabilities: [{ name: 'fly' }] } }),
        422,
        'unsupported_capability',
      );
    });
  });
});
