import { describe, expect, test } from 'vitest';
import { expectError, useAppSetup } from './app-test-kit.js';
import type { LogEntry } from './log.js';
import { AUTH, CREATE_ASSISTANT, FaultyStore, JSON_HEADERS, TRANSPORTS } from './test-helpers.js';

const setupOver = useAppSetup();

// The REST contract (request errors), run against both entry points (the same assertions, byte-identical answers).
describe.each(TRANSPORTS)('over %s', (transport) => {
  const setup = setupOver(transport);

  describe('request errors', () => {
    test('unknown routes answer 404 route_not_found and known paths with a wrong method 405 with Allow', async () => {
      const { call } = await setup();
      await expectError(await call('/v1/nope'), 404, 'route_not_found');
      await expectError(await call('/nope'), 404, 'route_not_found');
      const wrong = await call('/v1/workers/w', { method: 'PUT' });
      await expectError(wrong, 405, 'method_not_allowed');
      expect(wrong.headers.get('allow')).toBe('GET, HEAD, DELETE');
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

    test('an unknown body key reads "unknown field" on every body', async () => {
      const { call } = await setup();
      await call('/v1/workers', { body: { ...CREATE_ASSISTANT, worker_id: 'typo' } });
      for (const [path, body] of [
        ['/v1/workers', { ...CREATE_ASSISTANT, bogus: 1 }],
        ['/v1/workers/typo/input', { kind: 'user', content: 'x', bogus: 1 }],
        ['/v1/workers/typo/cancel', { bogus: 1 }],
      ] as const) {
        const error = await expectError(await call(path, { body }), 400, 'invalid_request');
        expect(error.message).toMatch(/: bogus: unknown field$/);
        expect(error.details.issues).toEqual([{ path: 'bogus', message: 'unknown field' }]);
      }
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
});
