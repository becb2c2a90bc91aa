import { describe, expect, test } from 'vitest';
import { createRuntimeApp } from './app.js';
import { useAppSetup } from './app-test-kit.js';
import type { LogEntry } from './log.js';
import { TRANSPORTS } from './test-helpers.js';

const setupOver = useAppSetup();

// The REST contract (request ids and logging), run against both entry points (the same assertions, byte-identical answers).
describe.each(TRANSPORTS)('over %s', (transport) => {
  const setup = setupOver(transport);

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
