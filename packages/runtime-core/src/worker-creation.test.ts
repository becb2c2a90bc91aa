import { afterEach, describe, expect, test } from 'vitest';
import { MemoryStore } from './memory-store.js';
import { Runtime, type RuntimeOptions } from './runtime.js';

const open: Runtime[] = [];
afterEach(async () => {
  for (const rt of open.splice(0)) await rt.close({ grace_ms: 50 });
});

async function runtime(options: RuntimeOptions = {}): Promise<Runtime> {
  const rt = await Runtime.open(options);
  open.push(rt);
  return rt;
}

const create = { intent: { kind: 'assistant' as const }, profile: { kind: 'runtime_default' as const } };

describe('create metadata', () => {
  test.each([[['a', 'b']], [[]]])('an array (%j) is invalid_request, not an object of indexes', async (metadata) => {
    const rt = await runtime();
    await expect(rt.createWorker({ ...create, metadata } as never)).rejects.toMatchObject({
      code: 'invalid_request',
      details: { issues: [{ path: 'metadata' }] },
    });
    expect((await rt.listWorkers()).workers).toEqual([]);
  });
});

describe('create idempotency_key', () => {
  test('the same key and body answer the worker the first create made, also after a restart', async () => {
    const store = new MemoryStore();
    const first = await runtime({ store });
    const made = await first.createWorker({ ...create, idempotency_key: 'create-1', metadata: { a: '1', b: '2' } });
    await first.sendInput(made.worker_id, { kind: 'system', content: 'note' });
    const again = await first.createWorker({ ...create, idempotency_key: 'create-1', metadata: { b: '2', a: '1' } });
    expect(again.worker_id).toBe(made.worker_id);
    expect(again.created_at).toBe(made.created_at);
    expect(again.transcript_len).toBe(1);
    expect((await first.listWorkers()).workers).toHaveLength(1);
    expect(again).not.toHaveProperty('idempotency');
    await first.close();

    const second = await runtime({ store });
    const replay = await second.createWorker({ ...create, idempotency_key: 'create-1', metadata: { a: '1', b: '2' } });
    expect(replay.worker_id).toBe(made.worker_id);
    await expect(second.createWorker({ ...create, idempotency_key: 'create-1' })).rejects.toMatchObject({
      code: 'idempotency_conflict',
      details: { idempotency_key: 'create-1' },
    });
    expect((await second.listWorkers()).workers).toHaveLength(1);
  });

  test('a replay with an explicit worker_id is not duplicate_worker; another key is', async () => {
    const rt = await runtime({ limits: { max_workers: 1 } });
    await rt.createWorker({ ...create, worker_id: 'w', idempotency_key: 'k' });
    expect((await rt.createWorker({ ...create, worker_id: 'w', idempotency_key: 'k' })).worker_id).toBe('w');
    await expect(rt.createWorker({ ...create, worker_id: 'w', idempotency_key: 'other' })).rejects.toMatchObject({
      code: 'duplicate_worker',
    });
    await expect(rt.createWorker({ ...create, idempotency_key: 'third' })).rejects.toMatchObject({
      code: 'capacity_exceeded',
    });
  });

  test('concurrent creates with one key make one worker', async () => {
    const rt = await runtime();
    const details = await Promise.all(
      Array.from({ length: 20 }, () => rt.createWorker({ ...create, idempotency_key: 'once' })),
    );
    expect(new Set(details.map((d) => d.worker_id)).size).toBe(1);
    expect((await rt.listWorkers()).workers).toHaveLength(1);
  });

  test.each(['', 'k'.repeat(129)])('a key of length %#-th kind is invalid_request', async (key) => {
    const rt = await runtime();
    await expect(rt.createWorker({ ...create, idempotency_key: key })).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });
});
