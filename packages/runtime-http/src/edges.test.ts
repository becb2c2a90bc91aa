import { connect } from 'node:net';
import type { Runtime } from '@worker-runtime/core';
import { afterEach, describe, expect, test } from 'vitest';
import type { LogEntry } from './log.js';
import { type RuntimeServer, serveRuntime } from './server.js';
import {
  type AnyJson,
  AUTH,
  CREATE_ASSISTANT,
  CREATE_HOLD,
  eventually,
  JSON_HEADERS,
  openTestRuntime,
  type Served,
  serveOver,
  TOKEN,
  TRANSPORTS,
} from './test-helpers.js';

// HTTP edges a real OpenAPI client and a fuzzer found (issue 11), each pinned by a test.
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function errorOf(response: Response): Promise<AnyJson> {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('x-request-id')).toBeTruthy();
  return ((await response.json()) as AnyJson).error;
}

describe.each(TRANSPORTS)('bodies and messages over %s', (transport) => {
  async function setup(): Promise<Served & { runtime: Runtime }> {
    const { runtime } = await openTestRuntime();
    cleanups.push(() => runtime.close());
    const served = await serveOver(transport, runtime);
    cleanups.push(() => served.close());
    return { ...served, runtime };
  }

  test('an empty body on cancel and stop means no options, whatever its content type', async () => {
    const { app, call } = await setup();
    await call('/v1/workers', { body: { ...CREATE_HOLD, worker_id: 'w' } });
    const ack = (
      (await (await call('/v1/workers/w/input', { body: { kind: 'user', content: 'x' } })).json()) as AnyJson
    ).ack;
    // What `fetch(url, { body: '' })` sends (text/plain) and what `curl -d ''` sends (form).
    const cancelled = await app.request('/v1/workers/w/cancel', { method: 'POST', headers: AUTH, body: '' });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as AnyJson).ack).toMatchObject({ run_id: ack.run_id });
    for (const contentType of ['application/x-www-form-urlencoded', 'application/json', 'application/octet-stream']) {
      const stopped = await app.request('/v1/workers/w/stop', {
        method: 'POST',
        headers: { ...AUTH, 'content-type': contentType },
        body: '',
      });
      expect(stopped.status).toBe(200);
      expect(((await stopped.json()) as AnyJson).ack.status).toBe('stopped');
    }
  });

  test('a body of [] or null (or any non-object) is 400 invalid_request and changes nothing', async () => {
    const { app, call, runtime } = await setup();
    await call('/v1/workers', { body: { ...CREATE_HOLD, worker_id: 'w' } });
    await call('/v1/workers/w/input', { body: { kind: 'user', content: 'x' } });
    for (const body of ['[]', 'null', '"stop"', '42', 'true']) {
      for (const path of ['/v1/workers/w/cancel', '/v1/workers/w/stop', '/v1/workers/w/input', '/v1/workers']) {
        const response = await app.request(path, { method: 'POST', headers: JSON_HEADERS, body });
        expect(response.status, `${path} ${body}`).toBe(400);
        const error = await errorOf(response);
        expect(error.code).toBe('invalid_request');
        expect(error.message).toContain('JSON object');
      }
    }
    expect((await runtime.getWorker('w')).status).toBe('running');
    expect((await runtime.listWorkers()).workers).toHaveLength(1);
  });

  test('unknown query and body key names are escaped and shortened in messages and issues', async () => {
    const { app, call } = await setup();
    const nasty = `\u001b[2J\r\nforged: line\u0000${'k'.repeat(6000)}`;
    const query = await call(`/v1/workers?${encodeURIComponent(nasty)}=1`);
    expect(query.status).toBe(400);
    const body = await app.request('/v1/workers', {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ ...CREATE_ASSISTANT, [nasty]: 1 }),
    });
    expect(body.status).toBe(400);
    for (const error of [await errorOf(query), await errorOf(body)]) {
      expect(error.code).toBe('invalid_request');
      const text = JSON.stringify(error);
      for (const raw of ['\u001b', '\r', '\n', '\u0000']) {
        expect(error.message).not.toContain(raw);
        expect(error.details.issues[0].path).not.toContain(raw);
      }
      expect(error.message).toContain('\\u001b');
      expect(error.message.length).toBeLessThanOrEqual(500);
      expect(text.length).toBeLessThan(1500);
    }
  });
});

describe('connection edges over a real socket', () => {
  async function start(options: Partial<Parameters<typeof serveRuntime>[0]> = {}): Promise<RuntimeServer> {
    const { runtime } = await openTestRuntime();
    cleanups.push(() => runtime.close());
    const server = await serveRuntime({ runtime, port: 0, token: TOKEN, ...options });
    cleanups.push(() => server.close());
    return server;
  }

  /** Sends `raw` on a fresh connection and collects everything until the server closes it. */
  function exchange(server: RuntimeServer, raw: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => {
        received += chunk;
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(received));
      socket.write(raw);
    });
  }

  test('a request without Host gets the JSON invalid_request with x-request-id', async () => {
    const server = await start();
    const received = await exchange(server, 'GET /healthz HTTP/1.1\r\nconnection: close\r\n\r\n');
    expect(received.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(received.toLowerCase()).toMatch(/x-request-id: [0-9a-f-]{36}/);
    expect(received).toContain('content-type: application/json');
    expect(received).toContain('"code":"invalid_request"');
    expect(received).toContain('no Host header');
  });

  test('an absolute-form request target is served like its path', async () => {
    const server = await start();
    const received = await exchange(
      server,
      `GET http://127.0.0.1:${server.port}/healthz HTTP/1.1\r\nhost: 127.0.0.1:${server.port}\r\nconnection: close\r\n\r\n`,
    );
    expect(received.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(received).toContain('{"status":"ok"}');
  });

  test('CONNECT gets a JSON 405 and the connection closes', async () => {
    const server = await start();
    const received = await exchange(server, `CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n`);
    expect(received.split('\r\n')[0]).toBe('HTTP/1.1 405 Method Not Allowed');
    expect(received).toContain('"code":"method_not_allowed"');
    expect(received.toLowerCase()).toContain('x-request-id: ');
  });

  test('a client that disconnects mid-upload is logged as its own invalid_request, never internal', async () => {
    const entries: LogEntry[] = [];
    const server = await start({ log: (entry) => entries.push(entry) });
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    socket.write(
      `POST /v1/workers HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TOKEN}\r\n` +
        'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"intent":',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    const line = await eventually(() => entries.find((entry) => entry.msg === 'request'));
    expect(line).toMatchObject({ status: 400, code: 'invalid_request', path: '/v1/workers' });
    expect(entries.filter((entry) => entry.level === 'error')).toEqual([]);
  });

  test('an idle keep-alive connection closes after keepAliveTimeout, not a second later', async () => {
    const server = await start({ timeouts: { keepAliveTimeout: 600 } });
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    let answeredAt = 0;
    const closedAt = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
    socket.on('data', () => {
      answeredAt ||= Date.now();
    });
    socket.write(`GET /healthz HTTP/1.1\r\nhost: 127.0.0.1:${server.port}\r\n\r\n`);
    const idle = (await closedAt) - answeredAt;
    // Node 20 alone would wait 1600 ms (its 1 s buffer); the margins allow a loaded machine.
    expect(idle).toBeGreaterThanOrEqual(500);
    expect(idle).toBeLessThan(1400);
  });

  test('with the default timeouts an idle keep-alive socket is armed for exactly 5 s', async () => {
    const server = await start();
    const sockets: Array<{ timeout?: number }> = [];
    server.server.on('connection', (socket) => sockets.push(socket));
    const response = await fetch(`${server.url}/healthz`);
    expect(response.headers.get('keep-alive')).toBe('timeout=5');
    await response.arrayBuffer();
    await eventually(() => (sockets[0]?.timeout === 5000 ? true : undefined));
  });
});
