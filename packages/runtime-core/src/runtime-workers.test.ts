import { describe, expect, test } from 'vitest';
import type { WorkerEngine } from './engine.js';
import { Runtime } from './runtime.js';
import { runtimesClosedAfterEach } from './test-runtimes.js';

const runtime = runtimesClosedAfterEach();

const assistant = { intent: { kind: 'assistant' as const }, profile: { kind: 'runtime_default' as const } };

describe('creating workers', () => {
  test('creates a worker with a generated time-ordered id and echoes what was given', async () => {
    const rt = await runtime({ display_name: 'Lab' });
    const detail = await rt.createWorker({
      ...assistant,
      display_name: 'Helper',
      workspace_refs: [{ name: 'ws', reference: 'opaque-1' }],
      mount_refs: [{ name: 'm', reference: 'opaque-2' }],
      metadata: { team: 'x' },
    });
    expect(detail.worker_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(detail).toMatchObject({
      worker_ref: { runtime_id: rt.runtime_id, worker_id: detail.worker_id },
      runtime_id: rt.runtime_id,
      display_name: 'Helper',
      display_ref: 'Helper@Lab',
      status: 'idle',
      transcript_len: 0,
      active_run: null,
      queued_inputs: 0,
      last_run: null,
      requested_capabilities: [],
      workspace_refs: [{ name: 'ws', reference: 'opaque-1' }],
      mount_refs: [{ name: 'm', reference: 'opaque-2' }],
      metadata: { team: 'x' },
      config_bundle: null,
    });
    expect(detail.last_event_id).toBeGreaterThan(0);
    expect(await rt.getWorker(detail.worker_id)).toEqual(detail);
    expect(await rt.getWorker(detail.worker_ref)).toEqual(detail);
  });

  test('records the tools-less local-profile diagnostic', async () => {
    const rt = await runtime();
    const { worker_id } = await rt.createWorker(assistant);
    const diagnostics = await rt.diagnostics();
    expect(diagnostics).toEqual([
      expect.objectContaining({
        severity: 'info',
        code: 'worker.tools_less',
        worker_ref: { runtime_id: rt.runtime_id, worker_id },
      }),
    ]);
    const events = await rt.readEvents();
    expect(events.items.map((e) => e.kind)).toEqual(['runtime_started', 'worker_created', 'diagnostic_recorded']);
  });

  test.each([
    ['../x', 'invalid_id'],
    ['', 'invalid_id'],
    ['a'.repeat(129), 'invalid_id'],
  ])('rejects worker_id %j with %s', async (worker_id, code) => {
    const rt = await runtime();
    await expect(rt.createWorker({ ...assistant, worker_id })).rejects.toMatchObject({ code });
    expect((await rt.listWorkers()).workers).toEqual([]);
  });

  test('rejects a duplicate worker id', async () => {
    const rt = await runtime();
    await rt.createWorker({ ...assistant, worker_id: 'same' });
    await expect(rt.createWorker({ ...assistant, worker_id: 'same' })).rejects.toMatchObject({
      code: 'duplicate_worker',
    });
  });

  test('rejects more than max_workers', async () => {
    const rt = await runtime({ limits: { max_workers: 2 } });
    await rt.createWorker(assistant);
    await rt.createWorker(assistant);
    await expect(rt.createWorker(assistant)).rejects.toMatchObject({ code: 'capacity_exceeded' });
  });

  test('rejects unknown profiles, config bundles and capabilities the engine lacks', async () => {
    const tooling: WorkerEngine = { name: 'tooling', capabilities: ['shell'], run: async () => undefined };
    const rt = await runtime({ engines: [tooling], profiles: { tools: { engine: 'tooling' } } });
    await expect(rt.createWorker({ ...assistant, profile: { kind: 'named', value: 'missing' } })).rejects.toMatchObject(
      { code: 'unknown_profile' },
    );
    await expect(rt.createWorker({ ...assistant, config_bundle: { id: 'b1' } })).rejects.toMatchObject({
      code: 'unsupported_operation',
    });
    await expect(rt.createWorker({ ...assistant, requested_capabilities: [{ name: 'shell' }] })).rejects.toMatchObject({
      code: 'unsupported_capability',
    });
    const ok = await rt.createWorker({
      ...assistant,
      profile: { kind: 'named', value: 'tools' },
      requested_capabilities: [{ name: 'shell', reason: 'build' }],
    });
    expect(ok.requested_capabilities).toEqual([{ name: 'shell', reason: 'build' }]);
    expect((await rt.listWorkers()).workers).toHaveLength(1);
  });

  test.each([
    [{ intent: { kind: 'assistant' } }],
    [{ ...assistant, intent: { kind: 'task' } }],
    [{ ...assistant, metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }],
    [{ ...assistant, display_name: 'bad\nname' }],
    [{ ...assistant, extra: true }],
    [{ ...assistant, metadata: JSON.parse('{"__proto__":"x"}') }],
    [{ ...assistant, metadata: { constructor: 'y' } }],
    [null],
  ])('rejects an invalid create request with invalid_request and issues', async (request) => {
    const rt = await runtime();
    const error = await rt.createWorker(request as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_request', details: { issues: expect.any(Array) } });
  });

  test('a worker_ref naming another runtime is not found', async () => {
    const rt = await runtime();
    const { worker_id } = await rt.createWorker(assistant);
    await expect(rt.getWorker({ runtime_id: 'other', worker_id })).rejects.toMatchObject({ code: 'worker_not_found' });
    await expect(rt.getWorker('nope')).rejects.toMatchObject({ code: 'worker_not_found' });
    await expect(rt.getWorker('../etc')).rejects.toMatchObject({ code: 'invalid_id' });
  });
});

describe('listing workers', () => {
  test('pages in creation order with an opaque cursor and filters by status', async () => {
    const rt = await runtime();
    for (let i = 0; i < 5; i++) await rt.createWorker({ ...assistant, worker_id: `w${i}` });
    await rt.stopWorker('w1');
    const first = await rt.listWorkers({ limit: 2 });
    expect(first.workers.map((w) => w.worker_id)).toEqual(['w0', 'w1']);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await rt.listWorkers({ limit: 2, cursor: first.next_cursor as string });
    expect(second.workers.map((w) => w.worker_id)).toEqual(['w2', 'w3']);
    const third = await rt.listWorkers({ limit: 2, cursor: second.next_cursor as string });
    expect(third).toMatchObject({ next_cursor: null });
    expect(third.workers.map((w) => w.worker_id)).toEqual(['w4']);
    expect((await rt.listWorkers({ status: 'stopped' })).workers.map((w) => w.worker_id)).toEqual(['w1']);
    expect((await rt.listWorkers({ status: 'idle' })).workers).toHaveLength(4);
  });

  test('rejects a bad cursor and a limit above max_list_page', async () => {
    const rt = await runtime({ limits: { max_list_page: 10 } });
    await expect(rt.listWorkers({ cursor: 'garbage!' })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(rt.listWorkers({ limit: 11 })).rejects.toMatchObject({ code: 'limit_too_large' });
    await expect(rt.listWorkers({ limit: 0 })).rejects.toMatchObject({ code: 'invalid_request' });
  });
});

describe('summary and capabilities', () => {
  test('reports ids, counts, limits, profiles and engines', async () => {
    const rt = await runtime({
      display_name: 'Lab',
      limits: { max_workers: 50 },
      profiles: { slow: { engine: 'echo', delay_ms: 5, description: 'slow echo' } },
    });
    await rt.createWorker(assistant);
    const summary = await rt.summary();
    expect(summary).toMatchObject({
      runtime_id: rt.runtime_id,
      display_name: 'Lab',
      status: 'running',
      store: 'memory',
      workers: { total: 1, idle: 1, running: 0, stopped: 0 },
      active_runs: 0,
      default_profile: 'runtime_default',
      capabilities: {
        engines: ['echo'],
        input_kinds: ['user', 'system'],
        busy_policies: ['reject', 'enqueue', 'interrupt'],
      },
    });
    expect(summary.limits.max_workers).toBe(50);
    expect(summary.profiles.map((p) => p.name)).toEqual(['runtime_default', 'slow']);
    expect(JSON.stringify(summary.profiles)).not.toContain('delay_ms');
  });

  test('refuses a default profile that does not exist and a profile naming a missing engine', async () => {
    await expect(Runtime.open({ default_profile: 'nope' })).rejects.toMatchObject({ code: 'unknown_profile' });
    await expect(Runtime.open({ profiles: { x: { engine: 'missing' } } })).rejects.toMatchObject({
      code: 'invalid_request',
    });
    await expect(Runtime.open({ runtime_id: '../bad' })).rejects.toMatchObject({ code: 'invalid_id' });
  });
});

describe('worker revision', () => {
  test('changes with every change to the worker and only then', async () => {
    const rt = await runtime();
    await rt.createWorker({ ...assistant, worker_id: 'w' });
    await rt.createWorker({ ...assistant, worker_id: 'other' });
    const first = await rt.workerRevision('w');
    expect(first).toBe((await rt.getWorker('w')).last_event_id);
    await rt.sendInput('other', { kind: 'system', content: 'elsewhere' });
    expect(await rt.workerRevision('w')).toBe(first);
    await rt.sendInput('w', { kind: 'system', content: 'here' });
    const second = await rt.workerRevision('w');
    expect(second).toBeGreaterThan(first);
    await rt.stopWorker('w');
    expect(await rt.workerRevision('w')).toBeGreaterThan(second);
    await expect(rt.workerRevision('ghost')).rejects.toMatchObject({ code: 'worker_not_found' });
  });

  test('workerRevisionSync answers the same revision without a promise and throws the same errors', async () => {
    const rt = await runtime();
    await rt.createWorker({ ...assistant, worker_id: 'w' });
    expect(rt.workerRevisionSync('w')).toBe(await rt.workerRevision('w'));
    await rt.sendInput('w', { kind: 'system', content: 'here' });
    expect(rt.workerRevisionSync('w')).toBe((await rt.getWorker('w')).last_event_id);
    expect(() => rt.workerRevisionSync('ghost')).toThrow(expect.objectContaining({ code: 'worker_not_found' }));
    expect(() => rt.workerRevisionSync('../bad')).toThrow(expect.objectContaining({ code: 'invalid_id' }));
  });
});
