import type { Runtime } from '@worker-runtime/core';
import { afterEach, describe, expect, test } from 'vitest';
import { createRuntimeClient } from './client.js';
import { serveRuntime } from './server.js';
import {
  type AnyJson,
  AUTH,
  CREATE_HOLD,
  openTestRuntime,
  type Served,
  serveOver,
  TOKEN,
  TRANSPORTS,
} from './test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.each(TRANSPORTS)('DELETE /v1/workers/{worker_id} over %s', (transport) => {
  async function setup(): Promise<Served & { runtime: Runtime }> {
    const { runtime } = await openTestRuntime();
    cleanups.push(() => runtime.close());
    const served = await serveOver(transport, runtime);
    cleanups.push(() => served.close());
    return { ...served, runtime };
  }

  test('refuses a worker that is not stopped; force=true stops and deletes it; then 404 and the id is reserved', async () => {
    const { call, runtime } = await setup();
    await call('/v1/workers', { body: { ...CREATE_HOLD, worker_id: 'w' } });
    await call('/v1/workers/w/input', { body: { kind: 'user', content: 'x' } });
    const refused = await call('/v1/workers/w', { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as AnyJson).error.code).toBe('worker_not_stopped');
    const deleted = await call('/v1/workers/w?force=true', { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    const { ack } = (await deleted.json()) as AnyJson;
    expect(ack).toEqual({
      worker_ref: { runtime_id: runtime.runtime_id, worker_id: 'w' },
      status: 'deleted',
      event_id: expect.any(Number),
    });
    const events = (await runtime.readEvents({ after: ack.event_id - 1, limit: 1 })).items;
    expect(events[0]?.kind).toBe('worker_deleted');
    for (const path of ['/v1/workers/w', '/v1/workers/w/transcript', '/v1/workers/w/runs']) {
      const response = await call(path);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as AnyJson).error.code).toBe('worker_not_found');
    }
    expect((await call('/v1/workers/w', { method: 'DELETE' })).status).toBe(404);
    const again = await call('/v1/workers', { body: { ...CREATE_HOLD, worker_id: 'w' } });
    expect(again.status).toBe(409);
    expect(((await again.json()) as AnyJson).error.code).toBe('duplicate_worker');
  });

  test('an empty body means no options whatever its content type; a JSON body may carry force', async () => {
    const { app, call, runtime } = await setup();
    for (const id of ['a', 'b', 'c']) await call('/v1/workers', { body: { ...CREATE_HOLD, worker_id: id } });
    await call('/v1/workers/a/stop', { method: 'POST' });
    const empty = await app.request('/v1/workers/a', {
      method: 'DELETE',
      headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(empty.status).toBe(200);
    const noForce = await app.request('/v1/workers/b', {
      method: 'DELETE',
      headers: { ...AUTH, 'content-type': 'text/plain' },
      body: '',
    });
    expect(noForce.status).toBe(409);
    const forced = await call('/v1/workers/b', { method: 'DELETE', body: { force: true } });
    expect(forced.status).toBe(200);
    const bad = await call('/v1/workers/c?force=yes', { method: 'DELETE' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as AnyJson).error.code).toBe('invalid_request');
    const badBody = await call('/v1/workers/c', { method: 'DELETE', body: { force: 'yes' } });
    expect(badBody.status).toBe(400);
    expect((await runtime.listWorkers()).workers.map((w) => w.worker_id)).toEqual(['c']);
  });
});

test('the typed client deletes a worker', async () => {
  const { runtime } = await openTestRuntime();
  cleanups.push(() => runtime.close());
  const server = await serveRuntime({ runtime, port: 0, token: TOKEN });
  cleanups.push(() => server.close());
  const client = createRuntimeClient({ baseUrl: server.url, token: TOKEN });
  await client.createWorker({ ...CREATE_HOLD, worker_id: 'w' });
  await expect(client.deleteWorker('w')).rejects.toMatchObject({ code: 'worker_not_stopped', status: 409 });
  expect(await client.deleteWorker('w', { force: true })).toMatchObject({ status: 'deleted' });
  await expect(client.getWorker('w')).rejects.toMatchObject({ code: 'worker_not_found' });
});
