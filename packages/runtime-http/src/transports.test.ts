import type { Runtime } from '@worker-runtime/core';
import { Hono } from 'hono';
import { afterEach, describe, expect, test } from 'vitest';
import { createRuntimeApp } from './app.js';
import type { LogEntry } from './log.js';
import { type RuntimeServer, serveRuntime } from './server.js';
import { AUTH, CREATE_ASSISTANT, JSON_HEADERS, openTestRuntime, TOKEN } from './test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function both(): Promise<{
  runtime: Runtime;
  app: Hono;
  server: RuntimeServer;
  logs: { app: LogEntry[]; server: LogEntry[] };
}> {
  const { runtime } = await openTestRuntime();
  cleanups.push(() => runtime.close());
  const logs = { app: [] as LogEntry[], server: [] as LogEntry[] };
  const app = createRuntimeApp({ runtime, token: TOKEN, log: (entry) => logs.app.push(entry) });
  const server = await serveRuntime({ runtime, port: 0, token: TOKEN, log: (entry) => logs.server.push(entry) });
  cleanups.push(() => server.close());
  return { runtime, app, server, logs };
}

// A log line without its timing, which differs run to run.
function untimed({ duration_ms: _duration, ...entry }: LogEntry): Omit<LogEntry, 'duration_ms'> {
  return entry;
}

// Set by the socket, not the app: the connection's own bookkeeping.
const CONNECTION_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

async function wire(response: Response): Promise<{ status: number; headers: [string, string][]; body: string }> {
  const headers = [...response.headers].filter(([name]) => !CONNECTION_HEADERS.has(name)).sort();
  return { status: response.status, headers, body: Buffer.from(await response.arrayBuffer()).toString('base64') };
}

describe('both entry points share one matcher and answer byte for byte the same', () => {
  test('reads, errors, HEAD and the OpenAPI document are identical over app.request() and serveRuntime()', async () => {
    const { runtime, app, server, logs } = await both();
    await runtime.createWorker({ ...CREATE_ASSISTANT, worker_id: 'w' });
    await runtime.sendInput('w', { kind: 'system', content: 'note' });
    const cases: Array<[string, RequestInit]> = [
      ['/v1/runtime', { headers: AUTH }],
      ['/v1/workers/w', { headers: AUTH }],
      ['/v1/workers/w', { method: 'HEAD', headers: AUTH }],
      ['/v1/workers?limit=1', { headers: AUTH }],
      ['/v1/workers/w/transcript?tail=1', { headers: AUTH }],
      ['/v1/workers/w/runs', { headers: AUTH }],
      ['/v1/openapi.json', { headers: AUTH }],
      ['/healthz', {}],
      ['/v1/runtime', {}],
      ['/v1/runtime', { headers: { ...AUTH, origin: 'http://evil.example' } }],
      ['/v1/nope', { headers: AUTH }],
      ['/v1/workers/w', { method: 'PUT', headers: AUTH }],
      ['/v1/workers?bogus=1', { headers: AUTH }],
      ['/v1/workers/missing', { headers: AUTH }],
      ['/v1/workers/bad%20id', { headers: AUTH }],
      ['/v1/workers/%77', { headers: AUTH }],
      ['/v1/workers/a%2Fb/runs', { headers: AUTH }],
      ['/v1/workers/%E0%A4%A', { headers: AUTH }],
      ['/v1/workers', { method: 'POST', headers: JSON_HEADERS, body: '{"intent":' }],
      ['/v1/workers', { method: 'POST', headers: JSON_HEADERS, body: '[]' }],
      ['/v1/workers/w/cancel', { method: 'POST', headers: { ...AUTH, 'content-type': 'text/plain' }, body: 'x' }],
    ];
    for (const [path, init] of cases) {
      const headers = { ...(init.headers as Record<string, string>), 'x-request-id': 'same-id' };
      const viaApp = await wire(await app.request(path, { ...init, headers }));
      const viaSocket = await wire(await fetch(`${server.url}${path}`, { ...init, headers }));
      expect(viaSocket, `${init.method ?? 'GET'} ${path}`).toEqual(viaApp);
    }
    // They log the same lines too (the raw path, the route template, status and code).
    expect(logs.server.map(untimed)).toEqual(logs.app.map(untimed));
    expect(logs.app).toHaveLength(cases.length);
  });

  test('the app mounts under a prefix of an embedder’s own Hono app', async () => {
    const { runtime } = await openTestRuntime();
    cleanups.push(() => runtime.close());
    await runtime.createWorker({ ...CREATE_ASSISTANT, worker_id: 'w' });
    const parent = new Hono();
    parent.get('/', (c) => c.text('embedder home'));
    parent.route('/agents', createRuntimeApp({ runtime, token: TOKEN }));
    const worker = await parent.request('/agents/v1/workers/w', { headers: AUTH });
    expect(worker.status).toBe(200);
    expect(((await worker.json()) as { worker: { worker_id: string } }).worker.worker_id).toBe('w');
    expect((await parent.request('/agents/healthz')).status).toBe(200);
    const unknown = await parent.request('/agents/v1/nope', { headers: AUTH });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('route_not_found');
    const created = await parent.request('/agents/v1/workers', {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify(CREATE_ASSISTANT),
    });
    expect(created.status).toBe(201);
    // The token still guards the mounted /v1 routes; the embedder's own routes are untouched.
    expect((await parent.request('/agents/v1/runtime')).status).toBe(401);
    expect(await (await parent.request('/')).text()).toBe('embedder home');
  });
});
