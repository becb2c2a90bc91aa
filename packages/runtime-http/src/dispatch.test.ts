import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Runtime, RuntimeError } from '@worker-runtime/core';
import * as v from 'valibot';
import { afterEach, describe, expect, test } from 'vitest';
import { honoApp } from './app.js';
import { createDispatcher, type Dispatcher, type DispatchRequest } from './dispatch.js';
import type { EventStreamProducer } from './event-stream.js';
import type { LogEntry } from './log.js';
import { createNodeListener } from './node-listener.js';
import type { Reply } from './reply.js';
import type { RouteDef } from './route.js';
import { RUNTIME_ROUTES } from './routes/index.js';
import { createGate } from './security.js';
import { AUTH, eventually, openTestRuntime, TOKEN } from './test-helpers.js';

// The reply kinds are a mechanism of the dispatcher; these routes exist only in this test's table.
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function testRoute(path: string, handle: RouteDef['handle']): RouteDef {
  return {
    method: 'GET',
    path,
    scope: 'read',
    doc: {
      operationId: path,
      summary: path,
      tags: [],
      success: { status: 200, description: 'test', schema: v.unknown() },
      errors: [],
    },
    handle,
  };
}

async function serveBoth(
  routes: RouteDef[],
  options: { log?: (entry: LogEntry) => void; signal?: AbortSignal } = {},
): Promise<{
  runtime: Runtime;
  dispatcher: Dispatcher;
  appRequest(path: string, init?: RequestInit): Promise<Response>;
  url: string;
}> {
  const { runtime } = await openTestRuntime();
  cleanups.push(() => runtime.close());
  const dispatcher = createDispatcher({
    runtime,
    routes,
    gate: createGate({ token: TOKEN, loopbackOnly: true, allowedHosts: [] }),
    maxBodyBytes: 1024,
    log: options.log,
    signal: options.signal,
  });
  const app = honoApp(dispatcher);
  const server: Server = createServer(createNodeListener(dispatcher));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { runtime, dispatcher, appRequest: async (path, init) => app.request(path, init), url };
}

const greeting: EventStreamProducer = async (stream) => {
  await stream.write('retry: 1000\n\n');
  await stream.writeSSE({ id: '1', event: 'worker_created', data: '{"id":1}' });
  await stream.write(': keep-alive\n\n');
  await stream.writeSSE({ event: 'output_delta', data: 'two\nlines' });
};

describe('reply kinds, through the same dispatcher on both transports', () => {
  test('an event stream: same bytes, same request id and headers, the gate before the first byte', async () => {
    const { appRequest, url } = await serveBoth([testRoute('/v1/s', async () => ({ status: 200, events: greeting }))]);
    const expected =
      'retry: 1000\n\nevent: worker_created\ndata: {"id":1}\nid: 1\n\n: keep-alive\n\n' +
      'event: output_delta\ndata: two\ndata: lines\n\n';
    const headers = { ...AUTH, 'x-request-id': 'sse-1' };
    for (const response of [await appRequest('/v1/s', { headers }), await fetch(`${url}/v1/s`, { headers })]) {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('x-request-id')).toBe('sse-1');
      expect(await response.text()).toBe(expected);
    }
    for (const response of [await appRequest('/v1/s'), await fetch(`${url}/v1/s`)]) {
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    }
    const browser = await fetch(`${url}/v1/s`, { headers: { ...AUTH, origin: 'http://x.example' } });
    expect(browser.status).toBe(403);
    for (const response of [
      await appRequest('/v1/s', { method: 'HEAD', headers: AUTH }),
      await fetch(`${url}/v1/s`, { method: 'HEAD', headers: AUTH }),
    ]) {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      expect(await response.text()).toBe('');
    }
  });

  test('an error thrown before the stream starts is a normal JSON error', async () => {
    const { appRequest, url } = await serveBoth([
      testRoute('/v1/s', async ({ runtime }) => {
        await runtime.getWorker('missing');
        return { status: 200, events: greeting };
      }),
    ]);
    for (const response of [
      await appRequest('/v1/s', { headers: AUTH }),
      await fetch(`${url}/v1/s`, { headers: AUTH }),
    ]) {
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('worker_not_found');
    }
  });

  test('the node transport honours backpressure: a reader that stops reading stops the producer', async () => {
    const chunk = 'x'.repeat(64 * 1024);
    let written = 0;
    const total = 400;
    const { url } = await serveBoth([
      testRoute('/v1/s', async () => ({
        status: 200,
        events: async (stream) => {
          for (let i = 0; i < total; i++) {
            await stream.writeSSE({ data: chunk });
            written++;
          }
        },
      })),
    ]);
    const { port } = new URL(url);
    let received = 0;
    let writtenWhilePaused = -1;
    const done = new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/s', headers: AUTH }, (res) => {
        res.pause();
        // Not reading for a while: the producer must be held up by the full socket buffers.
        setTimeout(() => {
          writtenWhilePaused = written;
          res.on('data', (data: Buffer) => {
            received += data.length;
          });
          res.on('end', () => resolve());
          res.resume();
        }, 300);
      });
      req.on('error', reject);
      req.end();
    });
    await done;
    expect(writtenWhilePaused).toBeGreaterThan(0);
    expect(writtenWhilePaused).toBeLessThan(total / 2);
    expect(written).toBe(total);
    expect(received).toBe(total * (chunk.length + 'data: \n\n'.length));
  });

  test('the client going away, or the server shutting down, aborts the producer’s signal', async () => {
    const signals: AbortSignal[] = [];
    const shutdown = new AbortController();
    const endless: EventStreamProducer = async (stream, signal) => {
      signals.push(signal);
      await stream.writeSSE({ data: 'first' });
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    };
    const { appRequest, url } = await serveBoth([testRoute('/v1/s', async () => ({ status: 200, events: endless }))], {
      signal: shutdown.signal,
    });
    const socketReader = (await fetch(`${url}/v1/s`, { headers: AUTH })).body?.getReader();
    expect(new TextDecoder().decode((await socketReader?.read())?.value)).toBe('data: first\n\n');
    await socketReader?.cancel();
    const appReader = (await appRequest('/v1/s', { headers: AUTH })).body?.getReader();
    await appReader?.read();
    await appReader?.cancel();
    await eventually(() => (signals.length === 2 && signals.every((s) => s.aborted) ? true : undefined));
    const open = await fetch(`${url}/v1/s`, { headers: AUTH });
    shutdown.abort();
    expect(await open.text()).toBe('data: first\n\n');
  });

  test('abort() cuts a reader off: the response ends, what was queued is dropped, the producer’s signal aborts', async () => {
    let aborted: AbortSignal | undefined;
    const { url } = await serveBoth([
      testRoute('/v1/s', async () => ({
        status: 200,
        events: async (stream, signal) => {
          aborted = signal;
          await stream.writeSSE({ data: 'delivered' });
          // Not awaited: a producer that must not wait for a slow reader queues, then gives up.
          for (let i = 0; i < 100; i++) void stream.writeSSE({ data: 'queued' });
          stream.abort();
        },
      })),
    ]);
    const text = await (await fetch(`${url}/v1/s`, { headers: AUTH })).text();
    expect(text.startsWith('data: delivered\n\n')).toBe(true);
    expect(text.split('data: queued').length - 1).toBeLessThan(100);
    expect(aborted?.aborted).toBe(true);
  });

  test('a producer failing mid-stream ends the stream and is logged as internal with the request id', async () => {
    const entries: LogEntry[] = [];
    const { url } = await serveBoth(
      [
        testRoute('/v1/s', async () => ({
          status: 200,
          events: async (stream) => {
            await stream.writeSSE({ data: 'before' });
            throw new Error('engine fell over');
          },
        })),
      ],
      { log: (entry) => entries.push(entry) },
    );
    const response = await fetch(`${url}/v1/s`, { headers: { ...AUTH, 'x-request-id': 'mid-1' } });
    expect(await response.text()).toBe('data: before\n\n');
    await eventually(() => entries.find((entry) => entry.level === 'error'));
    expect(entries.find((entry) => entry.level === 'error')).toMatchObject({ request_id: 'mid-1', code: 'internal' });
  });

  test('plain text: same bytes with its content type and length on both transports', async () => {
    const text = '# HELP up 1 when serving\n# TYPE up gauge\nup 1\n';
    const contentType = 'text/plain; version=0.0.4; charset=utf-8';
    const { appRequest, url } = await serveBoth([testRoute('/v1/t', async () => ({ status: 200, text, contentType }))]);
    for (const response of [
      await appRequest('/v1/t', { headers: AUTH }),
      await fetch(`${url}/v1/t`, { headers: AUTH }),
    ]) {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(contentType);
      expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
      expect(response.headers.get('x-request-id')).toBeTruthy();
      expect(await response.text()).toBe(text);
    }
  });

  test('a synchronous answer (a cached worker GET) is replied synchronously, the same on both transports', async () => {
    const { runtime, dispatcher, appRequest, url } = await serveBoth([
      ...RUNTIME_ROUTES,
      testRoute('/v1/sync-fail', () => {
        throw new RuntimeError('worker_not_found', 'no such worker');
      }),
    ]);
    await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    const get = (path: string): DispatchRequest => ({
      method: 'GET',
      path,
      url: path,
      header: (name) => ({ host: '127.0.0.1', authorization: AUTH.authorization })[name],
      body: null,
    });
    // The first read fills the cache (asynchronously); the next ones are answered from it at once.
    const first = dispatcher.handle(get('/v1/workers/w'));
    expect(first).toBeInstanceOf(Promise);
    const filled = await first;
    const cached = dispatcher.handle(get('/v1/workers/w'));
    expect(cached).not.toBeInstanceOf(Promise);
    expect((cached as Reply).body).toEqual(filled.body);
    await runtime.sendInput('w', { kind: 'system', content: 'changed' });
    expect(dispatcher.handle(get('/v1/workers/w'))).toBeInstanceOf(Promise);
    // A synchronous throw is the one error mapping's answer, synchronously too.
    const failed = dispatcher.handle(get('/v1/sync-fail'));
    expect(failed).not.toBeInstanceOf(Promise);
    expect((failed as Reply).status).toBe(404);
    for (const response of [
      await appRequest('/v1/sync-fail', { headers: AUTH }),
      await fetch(`${url}/v1/sync-fail`, { headers: AUTH }),
    ]) {
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'worker_not_found' } });
    }
    const node = await fetch(`${url}/v1/workers/w`, { headers: AUTH });
    const app = await appRequest('/v1/workers/w', { headers: AUTH });
    expect(Buffer.from(await node.arrayBuffer())).toEqual(Buffer.from(await app.arrayBuffer()));
  });
});
