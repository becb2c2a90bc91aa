import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime } from '@worker-runtime/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { listFsRuntimes } from './runtime-dirs.js';
import { startReadyChild } from './test-support/ready-child.js';
import { tempDir } from './test-support/temp-dir.js';

const child = new URL('./test-support/delete-crash-child.mjs', import.meta.url).pathname;
const ROUNDS = 24;
const create = { intent: { kind: 'assistant' as const }, profile: { kind: 'runtime_default' as const } };

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('build the package first');
  ({ dir, cleanup } = await tempDir());
});
afterAll(async () => {
  await cleanup();
});

describe('crash safety of deletes', () => {
  test(`a SIGKILL at any point of a delete leaves the worker intact or fully deleted (${ROUNDS} rounds)`, async () => {
    let deletions = 0;
    let intact = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const checkpointBytes = round % 2 === 0 ? 2048 : 1 << 20;
      const running = await startReadyChild(child, [dir, String(round), String(checkpointBytes)]);
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.floor(Math.random() * 300)));
      const lines = (await running.crash()).split('\n').slice(1, -1);
      const printed = lines.map((line) => JSON.parse(line) as { complete?: string; deleted?: string });
      const complete = printed.flatMap((p) => (p.complete ? [p.complete] : []));
      const deleted = new Set(printed.flatMap((p) => (p.deleted ? [p.deleted] : [])));
      // The worker being created when the kill came may exist without being complete; it is checked too.
      const started = [...complete, `d${round}-${complete.length}`];

      const runtime = await Runtime.open({ store: createFsStore({ data_dir: dir }) });
      try {
        const [runtime_id] = await listFsRuntimes(dir);
        const workersDir = join(dir, 'runtimes', runtime_id as string, 'workers');
        const listed = (await runtime.listWorkers({ limit: 1000 })).workers.map((w) => w.worker_id);
        // Nothing on disk that the runtime does not know, nothing known without its directory.
        expect((await readdir(workersDir)).sort()).toEqual([...listed].sort());
        for (const worker_id of started) {
          const onDisk = existsSync(join(workersDir, worker_id));
          const known = listed.includes(worker_id);
          expect(onDisk).toBe(known);
          if (deleted.has(worker_id)) expect(known).toBe(false);
          if (known) {
            if (complete.includes(worker_id)) {
              intact++;
              const items = (await runtime.transcript(worker_id)).items.map((e) => e.content);
              expect(items.slice(0, 3)).toEqual(['one', 'two', 'echo: two']);
              expect((await runtime.listRuns(worker_id)).runs).toHaveLength(1);
            }
            continue;
          }
          if (complete.includes(worker_id)) {
            deletions++;
            await expect(runtime.getWorker(worker_id)).rejects.toMatchObject({ code: 'worker_not_found' });
            await expect(runtime.createWorker({ ...create, worker_id })).rejects.toMatchObject({
              code: 'duplicate_worker',
            });
          }
        }
        // Leave no live worker behind for the next round's listing.
        for (const worker_id of listed) await runtime.deleteWorker(worker_id, { force: true });
      } finally {
        await runtime.close();
      }
    }
    expect(deletions).toBeGreaterThan(ROUNDS / 2);
    // Some kills landed between "complete" and the delete's ack, where either outcome is right.
    expect(deletions + intact).toBeGreaterThan(ROUNDS);
  }, 90_000);
});
