import { isRuntimeError, type RunRecord, type WorkerDetail } from '@worker-runtime/core';
import { afterEach, describe, expect, expectTypeOf, test } from 'vitest';
import { createRuntimeClient, RuntimeHttpError } from './client.js';
import { serveRuntime } from './server.js';
import { CREATE_ASSISTANT, CREATE_HOLD, eventually, openTestRuntime, TOKEN } from './test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start() {
  const { runtime, engine } = await openTestRuntime();
  cleanups.push(() => runtime.close());
  const server = await serveRuntime({ runtime, port: 0, token: TOKEN });
  cleanups.push(() => server.close());
  return { runtime, engine, server, client: createRuntimeClient({ baseUrl: `${server.url}/`, token: TOKEN }) };
}

describe('createRuntimeClient', () => {
  test('round-trips every route against a real server', async () => {
    const { client, runtime, engine } = await start();
    expect(await client.health()).toEqual({ status: 'ok' });
    expect(await client.ready()).toEqual({ status: 'ready' });
    const summary = await client.summary();
    expect(summary.runtime_id).toBe(runtime.runtime_id);
    expect(await client.capabilities()).toEqual(await runtime.capabilities());

    const worker = await client.createWorker({ ...CREATE_HOLD, worker_id: 'w1', display_name: 'One' });
    expectTypeOf(worker).toEqualTypeOf<WorkerDetail>();
    expect(worker).toMatchObject({ worker_id: 'w1', display_ref: `One@${runtime.runtime_id}` });
    expect(await client.getWorker('w1')).toEqual(await runtime.getWorker('w1'));
    expect(await client.getWorker(worker.worker_ref)).toMatchObject({ worker_id: 'w1' });
    await client.createWorker({ ...CREATE_ASSISTANT, worker_id: 'w2' });
    const page = await client.listWorkers({ limit: 1 });
    expect(page.workers.map((w) => w.worker_id)).toEqual(['w1']);
    expect((await client.listWorkers({ cursor: page.next_cursor as string })).workers.map((w) => w.worker_id)).toEqual([
      'w2',
    ]);

    const ack = await client.sendInput('w1', { kind: 'user', content: 'hello', idempotency_key: 'k' });
    expect(ack).toMatchObject({ replayed: false, run_status: 'running' });
    expect(await client.sendInput('w1', { kind: 'user', content: 'hello', idempotency_key: 'k' })).toEqual({
      ...ack,
      replayed: true,
    });
    await eventually(() => (engine.waiting === 1 ? true : undefined));
    engine.releaseAll();
    const run = await client.getRun('w1', ack.run_id as string, { wait_ms: 10_000 });
    expectTypeOf(run).toEqualTypeOf<RunRecord>();
    expect(run.status).toBe('completed');
    expect((await client.listRuns('w1', { limit: 5 })).runs.map((r) => r.run_id)).toEqual([ack.run_id]);
    const transcript = await client.transcript('w1', { tail: 1 });
    expect(transcript.items.map((e) => e.content)).toEqual(['held: hello']);

    const second = await client.sendInput('w1', { kind: 'user', content: 'again' });
    const cancelled = await client.cancelWorker('w1', { reason: 'enough' });
    expect(cancelled).toMatchObject({ run_id: second.run_id, status: 'idle' });
    expect(await client.stopWorker('w1')).toMatchObject({ status: 'stopped' });

    const events = await client.readEvents({ worker_id: 'w1', limit: 1000 });
    expect(events.items.map((e) => e.kind)).toContain('worker_stopped');
    expect(await client.readEvents({ after: events.next_after, worker_id: 'w1', wait_ms: 0 })).toMatchObject({
      items: [],
    });
    expect((await client.diagnostics()).length).toBeGreaterThan(0);
  });

  test('server errors surface as RuntimeHttpError with code, message, details, status and request id', async () => {
    const { client } = await start();
    await client.createWorker({ ...CREATE_HOLD, worker_id: 'w' });
    await client.sendInput('w', { kind: 'user', content: 'one' });
    const busy = await client.sendInput('w', { kind: 'user', content: 'two' }).catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(RuntimeHttpError);
    expect(isRuntimeError(busy)).toBe(true);
    expect(busy).toMatchObject({ code: 'worker_busy', status: 409, details: { active_run_id: expect.any(String) } });
    expect((busy as RuntimeHttpError).request_id).toBeTruthy();
    await expect(client.getWorker('missing')).rejects.toMatchObject({ code: 'worker_not_found', status: 404 });
    await expect(client.transcript('w', { limit: 0 })).rejects.toMatchObject({
      code: 'invalid_request',
      status: 400,
      details: { issues: [{ path: 'limit', message: expect.any(String) }] },
    });
    await expect(client.createWorker({ intent: { kind: 'task' } } as never)).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });

  test('ids and foreign worker refs fail like the embedded Runtime', async () => {
    const { client } = await start();
    await expect(client.getWorker('../etc')).rejects.toMatchObject({ code: 'invalid_id' });
    await expect(client.getRun('w', 'bad id')).rejects.toMatchObject({ code: 'invalid_id' });
    await expect(client.getWorker({ runtime_id: 'elsewhere', worker_id: 'w' })).rejects.toMatchObject({
      code: 'worker_not_found',
    });
  });

  test('a wrong token is unauthorized and an unreachable server is runtime_unavailable', async () => {
    const { server } = await start();
    const wrong = createRuntimeClient({ baseUrl: server.url, token: 'nope' });
    await expect(wrong.summary()).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
    await server.close();
    await expect(wrong.summary()).rejects.toMatchObject({ code: 'runtime_unavailable', status: 0 });
  });

  test('a non-Runtime error response maps by status', async () => {
    const client = createRuntimeClient({
      baseUrl: 'http://127.0.0.1:1',
      fetch: async () => new Response('<html>bad gateway</html>', { status: 502 }),
    });
    await expect(client.summary()).rejects.toMatchObject({ code: 'runtime_unavailable', status: 502 });
  });
});

test('the typed client deletes a worker', async () => {
  const { client } = await start();
  await client.createWorker({ ...CREATE_HOLD, worker_id: 'w' });
  await expect(client.deleteWorker('w')).rejects.toMatchObject({ code: 'worker_not_stopped', status: 409 });
  expect(await client.deleteWorker('w', { force: true })).toMatchObject({ status: 'deleted' });
  await expect(client.getWorker('w')).rejects.toMatchObject({ code: 'worker_not_found' });
});
