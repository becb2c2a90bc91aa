import type { Runtime } from '@worker-runtime/core';
import { afterEach, describe, expect, test } from 'vitest';
import { createRuntimeApp } from './app.js';
import { hostnameOf, isLoopbackAddress, isLoopbackHostname } from './security.js';
import { AUTH, openTestRuntime, TOKEN } from './test-helpers.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

async function app(options: Omit<Parameters<typeof createRuntimeApp>[0], 'runtime'> = {}) {
  const { runtime } = await openTestRuntime();
  runtimes.push(runtime);
  return createRuntimeApp({ runtime, token: TOKEN, ...options });
}

async function errorOf(response: Response): Promise<{ status: number; code: string; headers: Headers }> {
  const body = (await response.json()) as { error: { code: string } };
  return { status: response.status, code: body.error.code, headers: response.headers };
}

describe('bearer token', () => {
  test('every /v1 route needs the token; a missing or wrong one answers 401 with WWW-Authenticate', async () => {
    const served = await app();
    for (const path of [
      '/v1/runtime',
      '/v1/workers',
      '/v1/openapi.json',
      '/v1/events',
      '/v1/nope',
      '/v1/workers/w/runs/r',
    ]) {
      for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, 'Bearer', TOKEN]) {
        const response = await served.request(path, { headers: authorization ? { authorization } : {} });
        const error = await errorOf(response);
        expect(error).toMatchObject({ status: 401, code: 'unauthorized' });
        expect(error.headers.get('www-authenticate')).toBe('Bearer');
        expect(error.headers.get('x-request-id')).toBeTruthy();
      }
    }
  });

  test('the token is checked before the route: an unauthenticated POST reaches neither body nor Runtime', async () => {
    const served = await app();
    const response = await served.request('/v1/workers', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect((await errorOf(response)).code).toBe('unauthorized');
  });

  test('the scheme is case-insensitive and health routes need no token', async () => {
    const served = await app();
    expect((await served.request('/v1/runtime', { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    expect((await served.request('/healthz')).status).toBe(200);
    expect((await served.request('/readyz')).status).toBe(200);
  });

  test('without a token configured, /v1 routes are open', async () => {
    const served = await app({ token: undefined });
    expect((await served.request('/v1/runtime')).status).toBe(200);
  });

  test('error bodies never echo the token', async () => {
    const served = await app();
    const response = await served.request('/v1/runtime', { headers: { authorization: `Bearer ${TOKEN}-nope` } });
    expect(await response.text()).not.toContain(TOKEN);
  });
});

describe('browser requests', () => {
  test('any request with an Origin header answers 403 browser_access_denied, on every route', async () => {
    const served = await app();
    for (const path of ['/v1/runtime', '/healthz', '/readyz', '/v1/nope', '/nope']) {
      const response = await served.request(path, { headers: { ...AUTH, origin: 'http://localhost:3000' } });
      expect(await errorOf(response)).toMatchObject({ status: 403, code: 'browser_access_denied' });
    }
  });

  test('CORS preflights are refused (401 without the token, which comes first; 403 otherwise) and no response carries a CORS header', async () => {
    const served = await app();
    const preflightHeaders = { origin: 'https://evil.example', 'access-control-request-method': 'POST' };
    const preflight = await served.request('/v1/workers', { method: 'OPTIONS', headers: preflightHeaders });
    expect(await errorOf(preflight)).toMatchObject({ status: 401, code: 'unauthorized' });
    const withToken = await served.request('/v1/workers', {
      method: 'OPTIONS',
      headers: { ...preflightHeaders, ...AUTH },
    });
    expect(await errorOf(withToken)).toMatchObject({ status: 403, code: 'browser_access_denied' });
    const unprotected = await served.request('/healthz', { method: 'OPTIONS', headers: preflightHeaders });
    expect(await errorOf(unprotected)).toMatchObject({ status: 403, code: 'browser_access_denied' });
    for (const response of [
      preflight,
      withToken,
      unprotected,
      await served.request('/v1/runtime', { headers: AUTH }),
    ]) {
      for (const [name] of response.headers) expect(name).not.toMatch(/^access-control-/);
    }
  });

  test('the token is checked before anything else on /v1 routes', async () => {
    const served = await app();
    const response = await served.request('/v1/runtime', {
      headers: { origin: 'https://evil.example', host: 'evil.example' },
    });
    expect(await errorOf(response)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });

  test('an OPTIONS request without Origin is a 405 with Allow', async () => {
    const served = await app();
    const response = await served.request('/v1/workers', { method: 'OPTIONS', headers: AUTH });
    expect(await errorOf(response)).toMatchObject({ status: 405, code: 'method_not_allowed' });
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST');
  });
});

describe('Host header on loopback', () => {
  test('loopback names are accepted with or without port', async () => {
    const served = await app();
    for (const host of ['localhost', 'LOCALHOST:7420', '127.0.0.1', '127.1.2.3:80', '[::1]', '[::1]:7420']) {
      expect((await served.request('/healthz', { headers: { host } })).status).toBe(200);
    }
  });

  test('other names answer 403 forbidden_host unless allowed', async () => {
    const served = await app({ allowedHosts: ['runtime.internal', 'box:9000'] });
    for (const host of ['evil.example', 'localhost.evil.example', '10.0.0.1', '127.0.0.1.nip.io', 'box:9001', '']) {
      const response = await served.request('/v1/runtime', { headers: { ...AUTH, host } });
      expect(await errorOf(response)).toMatchObject({ status: 403, code: 'forbidden_host' });
    }
    for (const host of ['runtime.internal', 'RUNTIME.internal:7420', 'box:9000']) {
      expect((await served.request('/v1/runtime', { headers: { ...AUTH, host } })).status).toBe(200);
    }
  });

  test('when not bound to loopback, any Host is accepted', async () => {
    const served = await app({ loopbackOnly: false });
    expect((await served.request('/v1/runtime', { headers: { ...AUTH, host: 'runtime.example' } })).status).toBe(200);
  });

  test('host helpers classify names and addresses', () => {
    expect(hostnameOf('[::1]:80')).toBe('[::1]');
    expect(hostnameOf('Example.COM:1')).toBe('example.com');
    expect(isLoopbackHostname('127.255.0.1')).toBe(true);
    expect(isLoopbackHostname('128.0.0.1')).toBe(false);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('0.0.0.0')).toBe(false);
    expect(isLoopbackAddress('::')).toBe(false);
  });
});
