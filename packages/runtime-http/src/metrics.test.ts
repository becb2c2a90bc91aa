import type { Runtime } from '@worker-runtime/core';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Registry, register } from 'prom-client';
import { afterEach, describe, expect, test } from 'vitest';
import { createRuntimeApp } from './app.js';
import { serveRuntime } from './server.js';
import { AUTH, openTestRuntime, TOKEN } from './test-helpers.js';

const runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

type Families = ReturnType<typeof parsePrometheusTextFormat>;

async function scrape(app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> }) {
  const response = await app.request('/metrics', { headers: AUTH });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
  expect(response.headers.get('x-request-id')).toBeTruthy();
  const text = await response.text();
  return { text, families: parsePrometheusTextFormat(text) };
}

function family(families: Families, name: string) {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no series ${name}`);
  return found;
}

function value(families: Families, name: string, labels: Record<string, string> = {}): number {
  const sample = family(families, name).metrics.find((metric) =>
    Object.entries(labels).every(([key, wanted]) => metric.labels?.[key] === wanted),
  );
  return Number(sample?.value ?? sample?.count ?? Number.NaN);
}

/**
 * A sample line's value read from the text itself: the parser folds a labelled histogram's
 * `_count`/`_sum` lines into its buckets and drops their labels, so those are read here.
 */
function line(text: string, series: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${series} `));
  return Number(found?.slice(series.length + 1) ?? Number.NaN);
}

/** Number of samples (one per label set, a histogram counting once) over every family. */
function seriesCount(families: Families): number {
  return families.reduce((total, f) => total + f.metrics.length, 0);
}

describe('GET /metrics', () => {
  test('a Prometheus text parser accepts it, and the values move as the Runtime works', async () => {
    const { runtime, engine } = await openTestRuntime();
    runtimes.push(runtime);
    const app = createRuntimeApp({ runtime, token: TOKEN });
    const before = (await scrape(app)).families;
    for (const name of [
      'worker_runtime_workers',
      'worker_runtime_runs_total',
      'worker_runtime_active_runs',
      'worker_runtime_queued_inputs',
      'worker_runtime_run_duration_seconds',
      'worker_runtime_store_commit_seconds',
      'worker_runtime_http_requests_total',
      'worker_runtime_http_request_duration_seconds',
      'worker_runtime_streams',
      'worker_runtime_events_total',
      'worker_runtime_diagnostics_total',
      'worker_runtime_store_commit_failures_total',
      'worker_runtime_store_failed',
      'worker_runtime_info',
    ]) {
      expect(family(before, name).help).not.toBe('');
    }
    expect(family(before, 'worker_runtime_runs_total').type).toBe('COUNTER');
    expect(family(before, 'worker_runtime_run_duration_seconds').type).toBe('HISTOGRAM');
    expect(value(before, 'worker_runtime_workers', { status: 'running' })).toBe(0);
    expect(value(before, 'worker_runtime_info', { store: 'memory' })).toBe(1);

    const created = await app.request('/v1/workers', {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ intent: { kind: 'assistant' }, profile: { kind: 'named', value: 'hold' } }),
    });
    const { worker } = (await created.json()) as { worker: { worker_id: string } };
    const send = (content: string) =>
      app.request(`/v1/workers/${worker.worker_id}/input`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'user', content, on_busy: 'enqueue' }),
      });
    await send('one');
    await send('two');
    const busy = (await scrape(app)).families;
    expect(value(busy, 'worker_runtime_workers', { status: 'running' })).toBe(1);
    expect(value(busy, 'worker_runtime_active_runs')).toBe(1);
    expect(value(busy, 'worker_runtime_queued_inputs')).toBe(1);
    expect(
      value(busy, 'worker_runtime_http_requests_total', { route: '/v1/workers', method: 'POST', status: '201' }),
    ).toBe(1);
    expect(
      value(busy, 'worker_runtime_http_requests_total', {
        route: '/v1/workers/:worker_id/input',
        status: '202',
      }),
    ).toBe(2);

    const watch = runtime.watch({});
    await watch.ready();
    while (engine.waiting > 0 || (await runtime.summary()).active_runs > 0) {
      engine.releaseAll();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const { families: done, text } = await scrape(app);
    expect(value(done, 'worker_runtime_runs_total', { status: 'completed' })).toBe(2);
    expect(line(text, 'worker_runtime_run_duration_seconds_count{status="completed"}')).toBe(2);
    expect(value(done, 'worker_runtime_store_commit_seconds')).toBeGreaterThan(0);
    expect(value(done, 'worker_runtime_streams')).toBe(1);
    expect(value(done, 'worker_runtime_events_total', { kind: 'run_started' })).toBe(2);
    // The two scrapes before this one (a scrape is counted once it is answered).
    expect(value(done, 'worker_runtime_http_requests_total', { route: '/metrics', status: '200' })).toBe(2);
    await watch.return();
    // prom-client's global registry is never used.
    expect((await register.metrics()).trim()).toBe('');
  });

  test('1,000 distinct worker ids and unknown paths add no series: labels are route templates', async () => {
    const { runtime } = await openTestRuntime();
    runtimes.push(runtime);
    const server = await serveRuntime({ runtime, port: 0, token: TOKEN });
    try {
      const get = (path: string) => fetch(`${server.url}${path}`, { headers: AUTH }).then((r) => r.arrayBuffer());
      const round = async (from: number) => {
        for (let i = from; i < from + 500; i++) {
          await get(`/v1/workers/w-${i}`);
          await get(`/v1/workers/w-${i}/runs/r-${i}`);
          await get(`/nowhere/${i}`);
        }
      };
      await fetch(`${server.url}/metrics`, { headers: AUTH }).then((r) => r.arrayBuffer());
      await round(0);
      const first = parsePrometheusTextFormat(await (await fetch(`${server.url}/metrics`, { headers: AUTH })).text());
      await round(500);
      const second = parsePrometheusTextFormat(await (await fetch(`${server.url}/metrics`, { headers: AUTH })).text());
      expect(seriesCount(second)).toBe(seriesCount(first));
      expect(
        value(second, 'worker_runtime_http_requests_total', { route: '/v1/workers/:worker_id', status: '404' }),
      ).toBe(1000);
      expect(value(second, 'worker_runtime_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1000);
      const routes = new Set(family(second, 'worker_runtime_http_requests_total').metrics.map((m) => m.labels?.route));
      for (const route of routes) expect(route === 'unmatched' || route?.startsWith('/')).toBe(true);
      expect([...routes].some((route) => route?.includes('w-1'))).toBe(false);
    } finally {
      await server.close();
    }
  });

  test('/metrics needs the token like /v1 (scope admin)', async () => {
    const { runtime } = await openTestRuntime();
    runtimes.push(runtime);
    const app = createRuntimeApp({
      runtime,
      token: TOKEN,
      tokens: [{ name: 'watcher', token: 'read-token-1', scopes: ['read'] }],
    });
    expect((await app.request('/metrics')).status).toBe(401);
    const denied = await app.request('/metrics', { headers: { authorization: 'Bearer read-token-1' } });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({
      error: { code: 'insufficient_scope', details: { required: 'admin' } },
    });
    expect((await app.request('/metrics', { headers: AUTH })).status).toBe(200);
  });
});
