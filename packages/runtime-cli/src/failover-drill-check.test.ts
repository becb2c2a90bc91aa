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
  // An input whose ack the drill's client never recorded (the process answering it was killed first).
  await runtime.sendInput('w', { kind: 'user', content: 'two', on_busy: 'enqueue', idempotency_key: 'k5' });
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
    const checking = checkRuns(server.url, acked, join(dir, 'executions'), { final: false, round: 1 });
    acked.set('k1', 'acknowledged-while-listing');
    await expect(checking).resolves.toEqual({ interrupted: 0, completed: expect.any(Number) });
  });

  test("a round's failure names the round and its kill", async () => {
    const acked = new Map([
      ['k0', runId],
      ['k1', 'never-committed'],
    ]);
    const check = { final: false, round: 3, kill: 'owner pid 101 killed, standby pid 102 took over' } as const;
    await expect(checkRuns(server.url, acked, join(dir, 'executions'), check)).rejects.toThrow(
      'failover drill: the check of round 3 (after kill 3: owner pid 101 killed, standby pid 102 took over): ' +
        'acknowledged input k1 (never-committed) is missing',
    );
  });

  test('a failure of the final check says it is the final one', async () => {
    const acked = new Map([
      ['k0', runId],
      ['k1', 'never-committed'],
    ]);
    await expect(checkRuns(server.url, acked, join(dir, 'executions'), { final: true })).rejects.toThrow(
      'failover drill: the final check (after the client stopped and every run ended): ' +
        'acknowledged input k1 (never-committed) is missing',
    );
  });

  test('an input the drill never saw acknowledged is fine for a round, a failure of the final check', async () => {
    const acked = new Map([['k0', runId]]);
    const executions = join(dir, 'executions');
    await expect(checkRuns(server.url, acked, executions, { final: false, round: 2 })).resolves.toBeDefined();
    await expect(checkRuns(server.url, acked, executions, { final: true })).rejects.toThrow(
      'failover drill: the final check (after the client stopped and every run ended): 2 runs for 1 acknowledged inputs',
    );
  });

  test('a check that cannot list the runs names the check too', async () => {
    // Port 1 on loopback: nothing listens there, the connection is refused.
    await expect(
      checkRuns('http://127.0.0.1:1', new Map(), join(dir, 'executions'), { final: false, round: 2 }),
    ).rejects.toThrow(/^failover drill: the check of round 2 \(after kill 2: the owner killed\): fetch failed$/);
  });
});
