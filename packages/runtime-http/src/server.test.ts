import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { type RuntimeServer, SERVER_TIMEOUTS, serveRuntime } from './server.js';
import {
  type AnyJson,
  AUTH,
  bodyOf,
  CREATE_ASSISTANT,
  CREATE_HOLD,
  eventually,
  JSON_HEADERS,
  openTestRuntime,
  TOKEN,
} from './test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Partial<Parameters<typeof serveRuntime>[0]> = {}) {
  const { runtime, engine } = await openTestRuntime();
  cleanups.push(() => runtime.close());
  const server = await serveRuntime({ runtime, port: 0, token: TOKEN, ...options });
  cleanups.push(() => server.close());
  return { runtime, engine, server };
}

/** One raw HTTP/1.1 exchange (lets a test set any Host header). */
function rawGet(
  server: RuntimeServer,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: AnyJson }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens a raw socket, sends `head`, then trickles `drip` every 50 ms until the server answers and closes. */
async function trickle(
  server: RuntimeServer,
  head: string,
  drip: string,
): Promise<{ received: string; elapsed: number }> {
  const socket = connect(server.port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    received += chunk;
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const started = Date.now();
  socket.write(head);
  const writer = setInterval(() => {
    if (socket.writable) socket.write(drip);
  }, 50);
  try {
    await closed;
  } finally {
    clearInterval(writer);
  }
  return { received, elapsed: Date.now() - started };
}

describe('serveRuntime', () => {
  test('port 0 listens on a real port reported in url, with SPEC §8 timeouts', async () => {
    const { server } = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.server.headersTimeout).toBe(SERVER_TIMEOUTS.headersTimeout);
    expect(server.server.requestTimeout).toBe(SERVER_TIMEOUTS.requestTimeout);
    expect(server.server.keepAliveTimeout).toBe(SERVER_TIMEOUTS.keepAliveTimeout);
    const response = await fetch(`${server.url}/v1/runtime`, { headers: AUTH });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });

  test('a client trickling its headers is cut off with a JSON 408 once headersTimeout passes', async () => {
    const { server } = await start({ timeouts: { headersTimeout: 300, requestTimeout: 600 } });
    expect(server.server.headersTimeout).toBe(300);
    const { received, elapsed } = await trickle(
      server,
      `GET /healthz HTTP/1.1\r\nhost: 127.0.0.1:${server.port}\r\n`,
      'x-slow: 1\r\n',
    );
    expect(received.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(received).toContain('"code":"invalid_request"');
    // Without a short connections-checking interval Node would wait up to 30 s.
    expect(elapsed).toBeLessThan(5000);
  });

  test('a client trickling its body is cut off with a JSON 408 once requestTimeout passes', async () => {
    const { server, runtime } = await start({ timeouts: { headersTimeout: 300, requestTimeout: 600 } });
    const { received, elapsed } = await trickle(
      server,
      `POST /v1/workers HTTP/1.1\r\nhost: 127.0.0.1:${server.port}\r\nauthorization: Bearer ${TOKEN}\r\n` +
        'content-type: application/json\r\ncontent-length: 100000\r\n\r\n{',
      ' ',
    );
    expect(received.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
    expect(received).toContain('"code":"invalid_request"');
    expect(elapsed).toBeLessThan(5000);
    expect((await runtime.listWorkers()).workers).toHaveLength(0);
  });

  test('timeouts outside 1 ms to 2^31-1 ms, or headers allowed longer than the request, are refused', async () => {
    const { runtime } = await openTestRuntime();
    cleanups.push(() => runtime.close());
    await expect(serveRuntime({ runtime, port: 0, timeouts: { keepAliveTimeout: 2 ** 31 } })).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('timeouts.keepAliveTimeout'),
    });
    await expect(
      serveRuntime({ runtime, port: 0, timeouts: { headersTimeout: 2000, requestTimeout: 1000 } }),
    ).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringContaining('headersTimeout') });
  });

  test('refuses to bind a non-loopback address without a token', async () => {
    const { runtime } = await openTestRuntime();
    cleanups.push(() => runtime.close());
    await expect(serveRuntime({ runtime, host: '0.0.0.0', port: 0 })).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('without a token'),
    });
  });

  test('a port already in use fails with runtime_unavailable', async () => {
    const { server, runtime } = await start();
    await expect(serveRuntime({ runtime, port: server.port })).rejects.toMatchObject({ code: 'runtime_unavailable' });
  });

  test('Host and Origin rules hold over a real socket', async () => {
    const { server } = await start();
    const port = String(server.port);
    expect((await rawGet(server, '/healthz', { host: `localhost:${port}` })).status).toBe(200);
    expect(await rawGet(server, '/healthz', { host: `evil.example:${port}` })).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden_host' } },
    });
    expect(
      await rawGet(server, '/v1/runtime', { host: `127.0.0.1:${port}`, origin: 'http://127.0.0.1', ...AUTH }),
    ).toMatchObject({
      status: 403,
      body: { error: { code: 'browser_access_denied' } },
    });
  });

  test('allowedHosts admits a named Host on loopback', async () => {
    const { server } = await start({ allowedHosts: ['runtime.internal'] });
    expect((await rawGet(server, '/healthz', { host: 'runtime.internal:1234' })).status).toBe(200);
  });

  test('a chunked upload that never ends gets 413 once it passes the cap, and the connection closes', async () => {
    const { server, runtime } = await start({ maxBodyBytes: 1024 });
    const socket = connect(server.port, '127.0.0.1');
    let received = '';
    let writer: NodeJS.Timeout | undefined;
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      received += chunk;
    });
    socket.write(
      `POST /v1/workers HTTP/1.1\r\nhost: 127.0.0.1:${server.port}\r\nauthorization: Bearer ${TOKEN}\r\n` +
        'content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
    );
    const chunk = `100\r\n${' '.repeat(256)}\r\n`;
    writer = setInterval(() => {
      if (socket.writable) socket.write(chunk);
    }, 5);
    try {
      await eventually(
        () => (received.includes('\r\n\r\n{') && received.trimEnd().endsWith('}') ? true : undefined),
        10_000,
      );
    } finally {
      clearInterval(writer);
      writer = undefined;
    }
    expect(received.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    expect(received.toLowerCase()).toContain('connection: close');
    expect(received).toContain('"code":"payload_too_large"');
    await closed;
    expect((await runtime.listWorkers()).workers).toHaveLength(0);
  });

  test('a declared Content-Length over the cap is refused before the body arrives', async () => {
    const { server } = await start({ maxBodyBytes: 1024 });
    const response = await fetch(`${server.url}/v1/workers`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ ...CREATE_ASSISTANT, display_name: 'x'.repeat(2000) }),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  test('an events long-poll is woken by a new event', async () => {
    const { server } = await start();
    const head = await bodyOf(await fetch(`${server.url}/v1/events`, { headers: AUTH }));
    const after = head.events.next_after;
    const waiting = fetch(`${server.url}/v1/events?after=${after}&wait_ms=60000`, { headers: AUTH });
    await fetch(`${server.url}/v1/workers`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify(CREATE_ASSISTANT),
    });
    const body = await bodyOf(await waiting);
    expect(body.events.items[0]).toMatchObject({ id: after + 1, kind: 'worker_created' });
  });

  test('close() answers an in-flight long-poll at once and lets it finish with 200', async () => {
    const { server } = await start();
    const head = await bodyOf(await fetch(`${server.url}/v1/events`, { headers: AUTH }));
    const waiting = fetch(`${server.url}/v1/events?after=${head.events.next_after}&wait_ms=60000`, { headers: AUTH });
    // The health answer on a second connection means the server has read the long-poll before it.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await server.close();
    const response = await waiting;
    expect(response.status).toBe(200);
    // Its keep-alive connection ends with it, so close() does not wait for that socket to idle out.
    expect(response.headers.get('connection')).toBe('close');
    expect((await bodyOf(response)).events.items).toEqual([]);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  test('closing the Runtime answers a run long-poll with the run as it is', async () => {
    const { server, runtime } = await start();
    const worker = await bodyOf(
      await fetch(`${server.url}/v1/workers`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify(CREATE_HOLD),
      }),
    );
    const id = worker.worker.worker_id;
    const ack = await bodyOf(
      await fetch(`${server.url}/v1/workers/${id}/input`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ kind: 'user', content: 'hi' }),
      }),
    );
    const waiting = fetch(`${server.url}/v1/workers/${id}/runs/${ack.ack.run_id}?wait_ms=60000`, { headers: AUTH });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await runtime.close();
    const body = await bodyOf(await waiting);
    expect(body.run.status).toBe('interrupted');
  });

  test('a request Node cannot parse still gets a JSON error', async () => {
    const { server } = await start();
    const socket = connect(server.port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      received += chunk;
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('NOT HTTP AT ALL\r\n\r\n');
    await closed;
    expect(received.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(received).toContain('"code":"invalid_request"');
  });
});
