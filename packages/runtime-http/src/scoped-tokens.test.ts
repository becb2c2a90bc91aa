import { createHash } from 'node:crypto';
import type { Runtime } from '@worker-runtime/core';
import { afterEach, describe, expect, test } from 'vitest';
import { createRuntimeApp } from './app.js';
import type { LogEntry } from './log.js';
import { createOpenApiDocument, RUNTIME_ROUTES } from './routes/index.js';
import { openTestRuntime } from './test-helpers.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

const READ = 'read-token-aaaaaaaa';
const CONTROL = 'control-token-bbbbbbbb';
const ADMIN = 'admin-token-cccccccc';
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

async function scopedApp(log?: (entry: LogEntry) => void) {
  const { runtime } = await openTestRuntime();
  runtimes.push(runtime);
  return createRuntimeApp({
    runtime,
    tokens: [
      { name: 'observer', token: READ, scopes: ['read'] },
      { name: 'backend', sha256: sha256(CONTROL), scopes: ['control'] },
      { name: 'ops', token: ADMIN, scopes: ['admin'] },
    ],
    log,
  });
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

describe('scoped tokens', () => {
  test('read < control < admin: a valid token without the route scope gets 403 insufficient_scope', async () => {
    const app = await scopedApp();
    const create = (token: string) =>
      app.request('/v1/workers', {
        method: 'POST',
        headers: bearer(token),
        body: JSON.stringify({ intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } }),
      });
    const denied = await create(READ);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({
      error: {
        code: 'insufficient_scope',
        message: 'this token lacks the "control" scope this route needs',
        details: { required: 'control' },
      },
    });
    const created = await create(CONTROL);
    expect(created.status).toBe(201);
    const { worker } = (await created.json()) as { worker: { worker_id: string } };
    expect((await create(ADMIN)).status).toBe(201);

    for (const token of [READ, CONTROL, ADMIN]) {
      expect((await app.request(`/v1/workers/${worker.worker_id}`, { headers: bearer(token) })).status).toBe(200);
      expect((await app.request('/v1/nope', { headers: bearer(token) })).status).toBe(404);
    }
    expect((await app.request('/metrics', { headers: bearer(CONTROL) })).status).toBe(403);
    expect((await app.request('/metrics', { headers: bearer(ADMIN) })).status).toBe(200);
    // A wrong token is still 401, not 403.
    expect((await app.request('/v1/runtime', { headers: bearer(`${READ}x`) })).status).toBe(401);
    // The sha256 entry matches its token, never its digest used as a token.
    expect((await app.request('/v1/runtime', { headers: bearer(sha256(CONTROL)) })).status).toBe(401);
  });

  test('every route of the table has the scope SPEC §14 gives it', () => {
    const scopes = Object.fromEntries(RUNTIME_ROUTES.map((route) => [`${route.method} ${route.path}`, route.scope]));
    for (const [route, scope] of Object.entries(scopes)) {
      if (route === 'GET /healthz' || route === 'GET /readyz') expect(scope).toBeNull();
      else if (route === 'GET /metrics' || route.startsWith('DELETE ')) expect(scope).toBe('admin');
      else if (route.startsWith('GET ')) expect(scope).toBe('read');
      else expect(scope).toBe('control');
    }
  });

  test('the OpenAPI document names each operation’s scope and its 403 insufficient_scope', async () => {
    const document = await createOpenApiDocument();
    const create = document.paths['/v1/workers']?.post;
    expect(create?.['x-required-scope']).toBe('control');
    expect(create?.description).toContain('Needs a token with scope `control`');
    expect(create?.responses['403']?.description).toContain('`insufficient_scope`');
    expect(document.paths['/v1/workers']?.get?.['x-required-scope']).toBe('read');
    expect(document.paths['/metrics']?.get?.['x-required-scope']).toBe('admin');
    expect(Object.keys(document.paths['/metrics']?.get?.responses['200']?.content ?? {})).toEqual(['text/plain']);
    const health = document.paths['/healthz']?.get;
    expect(health?.['x-required-scope']).toBeUndefined();
    expect(health?.responses['403']?.description ?? '').not.toContain('insufficient_scope');
  });

  test('logs name the token, never show it', async () => {
    const entries: LogEntry[] = [];
    const app = await scopedApp((entry) => entries.push(entry));
    await app.request('/v1/runtime', { headers: bearer(READ) });
    await app.request('/v1/workers', { method: 'POST', headers: bearer(READ), body: '{}' });
    await app.request('/v1/runtime', { headers: bearer(CONTROL) });
    expect(entries.map((entry) => [entry.token_name, entry.status, entry.code])).toEqual([
      ['observer', 200, undefined],
      ['observer', 403, 'insufficient_scope'],
      ['backend', 200, undefined],
    ]);
    const logged = JSON.stringify(entries);
    for (const token of [READ, CONTROL, ADMIN, sha256(CONTROL)]) expect(logged).not.toContain(token);
  });

  test('a bad token set is refused without echoing a token', async () => {
    const { runtime } = await openTestRuntime();
    runtimes.push(runtime);
    const attempt = (tokens: unknown) => () => createRuntimeApp({ runtime, tokens: tokens as never });
    expect(attempt([])).toThrow('invalid tokens: must hold at least one token');
    expect(attempt([{ name: 'a', token: 'secret-1 x', scopes: ['read'] }])).toThrow(
      'invalid tokens[0].token: must be 1-4096 visible ASCII characters without spaces',
    );
    expect(attempt([{ name: 'a', token: 'secret-2', scopes: ['root'] }])).toThrow(
      'invalid tokens[0].scopes[0]: must be read, control or admin',
    );
    expect(attempt([{ name: 'a', token: 'secret-3', sha256: sha256('x'), scopes: ['read'] }])).toThrow(
      'invalid tokens[0]: needs exactly one of token, sha256',
    );
    expect(
      attempt([
        { name: 'a', token: 'secret-4', scopes: ['read'] },
        { name: 'a', token: 'secret-5', scopes: ['read'] },
      ]),
    ).toThrow('invalid tokens: token names must be unique');
    try {
      attempt([{ name: 'a', token: 'secret 6', scopes: ['read'] }])();
    } catch (error) {
      expect(JSON.stringify(error)).not.toContain('secret');
      expect((error as Error).message).not.toContain('secret');
    }
  });
});
