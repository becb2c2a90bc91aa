import { ERROR_CODES, type Runtime } from '@worker-runtime/core';
import { afterEach, describe, expect, test } from 'vitest';
import { createRuntimeApp } from './app.js';
import type { LogEntry } from './log.js';
import {
  type AnyJson,
  AUTH,
  CREATE_ASSISTANT,
  CREATE_HOLD,
  eventually,
  FaultyStore,
  JSON_HEADERS,
  openTestRuntime,
  type Served,
  serveOver,
  TRANSPORTS,
} from './test-helpers.js';

const runtimes: Runtime[] = [];
const servers: Served[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((served) => served.close()));
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

// The REST contract, run against both entry points (the same assertions, byte-identical answers).
describe.each(TRANSPORTS)('over %s', (transport) => {
  async function setup(
    options: Parameters<typeof openTestRuntime>[0] = {},
    appOptions: Parameters<typeof serveOver>[2] = {},
  ) {
    const opened = await openTestRuntime(options);
    runtimes.push(opened.runtime);
    const served = await serveOver(transport, opened.runtime, appOptions);
    servers.push(served);
    return { ...opened, ...served };
  }

  async function json(response: Response): Promise<AnyJson> {
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    return response.json();
  }

  async function expectError(response: Response, status: number, code: string): Promise<AnyJson> {
    expect(response.status).toBe(status);
    const body = await json(response);
    expect(body.error.code).toBe(code);
    expect(ERROR_CODES).toContain(body.error.code);
    expect(typeof body.error.message).toBe('string');
    return body.error;
  }

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
      const error = await expectError(await call('/v1/events?after=0'), 410, 'cursor_expired');
      expect(error.details).toHaveProperty('oldest_available');
    });
  });

  describe('request errors', () => {
    test('unknown routes answer 404 route_not_found and known paths with a wrong method 405 with Allow', async () => {
      const { call } = await setup();
      await expectError(await call('/v1/nope'), 404, 'route_not_found');
      await expectError(await call('/nope'), 404, 'route_not_found');
      const wrong = await call('/v1/workers/w', { method: 'DELETE' });
      await expectError(wrong, 405, 'method_not_allowed');
      expect(wrong.headers.get('allow')).toBe('GET, HEAD');
      const put = await call('/v1/workers', { method: 'PUT' });
      expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    });

    test('path ids that fail SPEC §2 answer 400 invalid_id', async () => {
      const { call } = await setup();
      await expectError(await call('/v1/workers/bad%20id'), 400, 'invalid_id');
      await expectError(await call(`/v1/workers/${'x'.repeat(129)}`), 400, 'invalid_id');
      await expectError(
        await call('/v1/workers/-lead/input', { body: { kind: 'user', content: 'x' } }),
        400,
        'invalid_id',
      );
      await expectError(
        await call('/v1/workers', { body: { ...CREATE_ASSISTANT, worker_id: '../x' } }),
        400,
        'invalid_id',
      );
      await expectError(await call('/v1/workers/missing'), 404, 'worker_not_found');
    });

    test('schema violations answer 400 invalid_request with details.issues', async () => {
      const { call } = await setup();
      const error = await expectError(
        await call('/v1/workers', { body: { intent: { kind: 'alien' } } }),
        400,
        'invalid_request',
      );
      expect(error.details.issues.length).toBeGreaterThan(0);
      expect(error.details.issues[0]).toEqual({ path: expect.any(String), message: expect.any(String) });
    });

    test('query numbers must be integers; unknown and repeated keys are rejected', async () => {
      const { call } = await setup();
      for (const query of [
        'limit=1.5',
        'limit=abc',
        'limit=',
        'limit=1e3',
        'limit=99999999999999999',
        'bogus=1',
        'limit=1&limit=2',
        'status=zombie',
      ]) {
        const error = await expectError(await call(`/v1/workers?${query}`), 400, 'invalid_request');
        expect(error.details.issues.length).toBeGreaterThan(0);
      }
      await expectError(await call('/v1/workers?limit=5000'), 400, 'limit_too_large');
    });

    test('routes without query parameters reject any query with 400 invalid_request', async () => {
      const { app, call } = await setup();
      for (const path of ['/v1/runtime?foo=1', '/v1/diagnostics?x', '/v1/workers/w/runs/r?wait=1', '/readyz?probe=1']) {
        const error = await expectError(await call(path), 400, 'invalid_request');
        expect(error.details.issues).toEqual([{ path: expect.any(String), message: 'is not a known query parameter' }]);
      }
      await expectError(await call('/v1/workers?dry_run=1', { body: CREATE_ASSISTANT }), 400, 'invalid_request');
      expect((await call('/v1/workers')).status).toBe(200);
      expect((await app.request('/healthz?')).status).toBe(200);
      // The token is still checked first: an unauthenticated caller learns nothing about the query.
      await expectError(await app.request('/v1/runtime?foo=1'), 401, 'unauthorized');
    });

    test('bodies that are not JSON answer 400 invalid_json', async () => {
      const { call } = await setup();
      await expectError(await call('/v1/workers', { body: '{"intent":' }), 400, 'invalid_json');
      await expectError(
        await call('/v1/workers', { method: 'POST', headers: { 'content-type': 'application/json' } }),
        400,
        'invalid_json',
      );
      const { app } = await setup();
      const badUtf8 = await app.request('/v1/workers', {
        method: 'POST',
        headers: JSON_HEADERS,
        body: new Uint8Array([0x7b, 0xff, 0x7d]),
      });
      await expectError(badUtf8, 400, 'invalid_json');
    });

    test('bodies without a JSON content type answer 415 unsupported_media_type', async () => {
      const { app } = await setup();
      for (const headers of [
        { ...AUTH, 'content-type': 'text/plain' },
        AUTH,
        { ...AUTH, 'content-type': 'application/json; charset=latin1' },
      ]) {
        const response = await app.request('/v1/workers', { method: 'POST', headers, body: '{}' });
        await expectError(response, 415, 'unsupported_media_type');
      }
      const stop = await app.request('/v1/workers/w/stop', { method: 'POST', headers: AUTH, body: '{}' });
      await expectError(stop, 415, 'unsupported_media_type');
      for (const encoding of ['gzip', 'identity, br', 'x-custom']) {
        const encoded = await app.request('/v1/workers', {
          method: 'POST',
          headers: { ...JSON_HEADERS, 'content-encoding': encoding },
          body: JSON.stringify(CREATE_ASSISTANT),
        });
        const error = await expectError(encoded, 415, 'unsupported_media_type');
        expect(error.message).toContain('content-encoding is not supported');
      }
      const identity = await app.request('/v1/workers', {
        method: 'POST',
        headers: { ...JSON_HEADERS, 'content-encoding': 'identity' },
        body: JSON.stringify(CREATE_ASSISTANT),
      });
      expect(identity.status).toBe(201);
      const vendor = await app.request('/v1/workers', {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/vnd.example+json; charset=UTF-8' },
        body: JSON.stringify(CREATE_ASSISTANT),
      });
      expect(vendor.status).toBe(201);
    });

    test('bodies over the cap answer 413, by Content-Length up front or while streaming', async () => {
      const { app, runtime } = await setup({}, { maxBodyBytes: 64 });
      const declared = await app.request('/v1/workers', {
        method: 'POST',
        headers: { ...JSON_HEADERS, 'content-length': '65' },
        body: 'x'.repeat(65),
      });
      await expectError(declared, 413, 'payload_too_large');
      // A body that never ends: over a socket, server.test.ts sends one chunk by chunk instead.
      if (transport === 'app.request') {
        let pulled = 0;
        const endless = new ReadableStream<Uint8Array>({
          pull(controller) {
            pulled++;
            controller.enqueue(new TextEncoder().encode(' '.repeat(16)));
          },
        });
        const streamed = await app.request('/v1/workers', {
          method: 'POST',
          headers: JSON_HEADERS,
          body: endless,
          duplex: 'half',
        } as RequestInit);
        const error = await expectError(streamed, 413, 'payload_too_large');
        expect(error.details).toEqual({ max_body_bytes: 64 });
        expect(pulled).toBeLessThan(10);
      }
      expect((await runtime.listWorkers()).workers).toHaveLength(0);
    });

    test('mutations on a closed runtime answer 503 runtime_unavailable with Retry-After', async () => {
      const { call, runtime } = await setup();
      await runtime.close();
      const response = await call('/v1/workers', { body: CREATE_ASSISTANT });
      await expectError(response, 503, 'runtime_unavailable');
      expect(response.headers.get('retry-after')).toBe('5');
    });

    test('a store that cannot write answers 503 store_unavailable with Retry-After, without the path', async () => {
      const store = new FaultyStore();
      const { call } = await setup({ store });
      store.failCommits = true;
      const response = await call('/v1/workers', { body: CREATE_ASSISTANT });
      const error = await expectError(response, 503, 'store_unavailable');
      expect(response.headers.get('retry-after')).toBe('5');
      expect(error.message).not.toContain('/var/data');
    });

    test('an unexpected error answers 500 internal without internals and is logged with the request id', async () => {
      const store = new FaultyStore();
      const entries: LogEntry[] = [];
      const { call } = await setup({ store }, { log: (entry) => entries.push(entry) });
      await call('/v1/workers', { body: { ...CREATE_ASSISTANT, worker_id: 'w' } });
      await call('/v1/workers/w/input', { body: { kind: 'system', content: 'x' } });
      store.readFailure = new Error('boom at /srv/secret/file.jsonl');
      const response = await call('/v1/workers/w/transcript', { headers: { 'x-request-id': 'req-42' } });
      const error = await expectError(response, 500, 'internal');
      expect(error.message).not.toMatch(/boom|secret|at /);
      expect(response.headers.get('x-request-id')).toBe('req-42');
      const logged = entries.find((entry) => entry.level === 'error');
      expect(logged).toMatchObject({ request_id: 'req-42', code: 'internal', path: '/v1/workers/w/transcript' });
      expect(logged?.msg).toContain('boom');
      expect(logged?.msg).not.toContain('/srv/secret');
      store.readFailure = 'not even an Error';
      await expectError(await call('/v1/workers/w/transcript'), 500, 'internal');
    });
  });

  describe('request ids and logging', () => {
    test('a sane incoming x-request-id is echoed; anything else is replaced', async () => {
      const { call } = await setup();
      const echoed = await call('/v1/runtime', { headers: { 'x-request-id': 'abc.DEF_1:2-3' } });
      expect(echoed.headers.get('x-request-id')).toBe('abc.DEF_1:2-3');
      for (const bad of ['has space', 'x'.repeat(129), 'semi;colon']) {
        const replaced = await call('/v1/nope', { headers: { 'x-request-id': bad } });
        expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      }
    });

    test('one debug line per request, without the token', async () => {
      const entries: LogEntry[] = [];
      const { call } = await setup({}, { log: (entry) => entries.push(entry) });
      await call('/v1/runtime', { headers: { 'x-request-id': 'r1' } });
      await call('/v1/nope', { headers: { 'x-request-id': 'r2' } });
      expect(entries).toEqual([
        expect.objectContaining({ level: 'debug', request_id: 'r1', method: 'GET', path: '/v1/runtime', status: 200 }),
        expect.objectContaining({ level: 'debug', request_id: 'r2', status: 404, code: 'route_not_found' }),
      ]);
      expect(JSON.stringify(entries)).not.toContain('test-token');
      // The route template (never the raw path) labels the line; an unmatched request has none.
      await call('/v1/workers/some-id', { headers: { 'x-request-id': 'r3' } });
      expect(entries[2]).toMatchObject({ request_id: 'r3', route: '/v1/workers/:worker_id', status: 404 });
      expect(entries[1]).not.toHaveProperty('route');
    });

    test('rejects a malformed token or body cap at construction', async () => {
      const { runtime } = await setup();
      expect(() => createRuntimeApp({ runtime, token: 'has space' })).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
      expect(() => createRuntimeApp({ runtime, token: '' })).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
      expect(() => createRuntimeApp({ runtime, maxBodyBytes: 0 })).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
    });
  });
});
