import { Validator } from '@seriousme/openapi-schema-validator';
import type { Runtime } from '@worker-runtime/core';
import { afterEach, describe, expect, test } from 'vitest';
import { createRuntimeApp } from './app.js';
import { createOpenApiDocument, RUNTIME_ROUTES } from './routes/index.js';
import { type AnyJson, openTestRuntime } from './test-helpers.js';

const ERROR_REF = { $ref: '#/components/schemas/Error' };

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

function openApiPath(path: string): string {
  return path.replace(/:([a-z_]+)/g, '{$1}');
}

describe('OpenAPI document', () => {
  test('validates as OpenAPI 3.1', async () => {
    const document = await createOpenApiDocument({ serverUrl: 'http://127.0.0.1:7420' });
    const validator = new Validator();
    const result = await validator.validate(
      structuredClone(document) as unknown as Parameters<Validator['validate']>[0],
    );
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  test('lists every route the app serves, with parameters, bodies and error shapes', async () => {
    const { runtime } = await openTestRuntime();
    runtimes.push(runtime);
    const app = createRuntimeApp({ runtime });
    const document = await createOpenApiDocument();
    // The app routes with the table's matcher: every table route is served (never 404/405) …
    const served = RUNTIME_ROUTES.map((route) => `${route.method.toLowerCase()} ${openApiPath(route.path)}`);
    for (const route of RUNTIME_ROUTES) {
      const response = await app.request(route.path.replace(/:[a-z_]+/g, 'x'), { method: route.method });
      expect([404, 405]).not.toContain(
        response.status === 404 && ((await response.json()) as AnyJson).error.code !== 'route_not_found'
          ? 0
          : response.status,
      );
    }
    // … and the document lists exactly those.
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item ?? {}).map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual([...new Set(served)].sort());
    expect(documented).toHaveLength(17);

    const transcript = document.paths['/v1/workers/{worker_id}/transcript']?.get;
    expect(transcript?.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ in: 'path', name: 'worker_id', required: true }),
        expect.objectContaining({ in: 'query', name: 'tail', schema: expect.objectContaining({ type: 'integer' }) }),
      ]),
    );
    const create = document.paths['/v1/workers']?.post;
    expect(create?.requestBody).toMatchObject({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/CreateWorkerRequest' } } },
    });
    expect(document.components.schemas.CreateWorkerRequest).toMatchObject({ type: 'object' });
    expect(Object.keys(create?.responses ?? {})).toEqual([
      '201',
      '400',
      '401',
      '403',
      '408',
      '409',
      '413',
      '415',
      '422',
      '431',
      '500',
      '503',
    ]);
    const cancel = document.paths['/v1/workers/{worker_id}/cancel']?.post;
    expect(cancel?.requestBody).toMatchObject({ required: false });
    const input = document.paths['/v1/workers/{worker_id}/input']?.post;
    expect(Object.keys(input?.responses ?? {})).toEqual(expect.arrayContaining(['200', '202', '409']));
    const error = JSON.stringify(create?.responses?.['409']);
    expect(error).toContain('duplicate_worker');
    expect(error).toContain('x-request-id');
    expect(document.paths['/healthz']?.get?.security).toEqual([]);
    expect(document.paths['/v1/runtime']?.get?.security).toEqual([{ bearerAuth: [] }]);
    expect(document.info.description).toContain('Browsers must never call it');
  });

  test('names its schemas, declares every status, and carries servers, license and tags', async () => {
    const document = await createOpenApiDocument();
    expect(document.servers).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:7420' })]);
    expect((await createOpenApiDocument({ serverUrl: 'http://10.0.0.5:8080' })).servers[0]?.url).toBe(
      'http://10.0.0.5:8080',
    );
    expect(document.info.license).toEqual({ name: 'MIT', identifier: 'MIT' });
    const tags = document.tags.map((tag) => tag.name);
    for (const operation of Object.values(document.paths).flatMap((item) => Object.values(item))) {
      for (const tag of operation.tags) expect(tags).toContain(tag);
      // Unknown query keys (400), slow or huge requests (408, 431), a closing Runtime (503), a bug (500).
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['400', '408', '431', '500', '503']));
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400) expect(response.content['application/json']?.schema).toEqual(ERROR_REF);
      }
    }
    const schemas = document.components.schemas;
    for (const name of [
      'WorkerDetail',
      'WorkerSummary',
      'InputAck',
      'ControlAck',
      'RunRecord',
      'Error',
      'RuntimeEvent',
    ]) {
      expect(schemas).toHaveProperty(name);
    }
    expect(schemas.Metadata).toMatchObject({ type: 'object', maxProperties: 16 });
    expect(schemas.CreateWorkerRequest).toMatchObject({
      properties: { metadata: { $ref: '#/components/schemas/Metadata' } },
    });
    expect(schemas.WorkerEnvelope).toMatchObject({
      properties: { worker: { $ref: '#/components/schemas/WorkerDetail' } },
    });
    const input = document.paths['/v1/workers/{worker_id}/input']?.post;
    expect(input?.responses['202']?.content['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/InputAckEnvelope',
    });
    expect(schemas.InputAckEnvelope).toMatchObject({ properties: { ack: { $ref: '#/components/schemas/InputAck' } } });
  });

  test('declares the stream routes and the streaming input as text/event-stream', async () => {
    const document = await createOpenApiDocument();
    const events = document.paths['/v1/events/stream']?.get;
    expect(Object.keys(events?.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
    expect(events?.responses).toHaveProperty('410');
    expect(events?.responses['503']?.description).toContain('too_many_streams');
    expect(events?.parameters?.map((p) => p.name)).toEqual(['after', 'worker_id']);
    const run = document.paths['/v1/workers/{worker_id}/runs/{run_id}/stream']?.get;
    expect(Object.keys(run?.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
    const input = document.paths['/v1/workers/{worker_id}/input']?.post;
    expect(Object.keys(input?.responses['202']?.content ?? {})).toEqual(['application/json']);
    expect(Object.keys(input?.responses['200']?.content ?? {})).toEqual(['application/json', 'text/event-stream']);
  });
});
