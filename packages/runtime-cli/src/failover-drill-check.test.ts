import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore, Runtime } from '@worker-runtime/core';
import { type RuntimeServer, serveRuntime } from '@worker-runtime/http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkRuns } from '../../../bench/lib/failover-drill.mjs';

let runtime: Runtime;
let server: RuntimeServer;
let dir: string;
let runId: string;
beforeAll(async () => {
  runtime = await Runtime.open({ store: new MemoryStore() });
  server = await serveRuntime({ runtime, port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'wr-drill-check-'));
  await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  const ack = await runtime.sendInput('w', { kind: 'user', content: 'one', idempotency_key: 'k0' });
  runId = ack.run_id as string;
});
afterAll(async () => {
  await server?.close();
  await runtime?.close();
  await rm(dir, { recursive: true, force: true });
});

// The drill's client keeps sending while a check lists the runs: an input it is acknowledged for
// meanwhile may have committed after the listing read the store.
describe("the failover drill's check of the listed runs", () => {
  test('requires the inputs acknowledged before it listed, not one acknowledged while the list was read', async () => {
    const acked = new Map([['k0', runId]]);
    const checking = checkRuns(server.url, acked, join(dir, 'executions'), { final: false });
    acked.set('k1', 'acknowledged-while-listing');
    await expect(checking).resolves.toEqual({ interrupted: 0, completed: expect.any(Number) });
  });

  test('fails when an input acknowledged before the listing is not in it', async () => {
    const acked = new Map([
      ['k0', runId],
      ['k1', 'never-committed'],
    ]);
    await expect(checkRuns(server.url, acked, join(dir, 'executions'), { final: false })).rejects.toThrow(
      'failover drill: acknowledged input k1 (never-committed) is missing',
    );
  });
});
