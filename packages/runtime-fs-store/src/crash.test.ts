import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type InputAck, Runtime } from '@worker-runtime/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { listFsRuntimes } from './runtime-dirs.js';
import { startReadyChild } from './test-support/ready-child.js';
import { tempDir } from './test-support/temp-dir.js';

const child = new URL('./test-support/crash-child.mjs', import.meta.url).pathname;
const ROUNDS = 24;

interface Acked {
  worker: string;
  content: string;
  ack: InputAck;
}

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('build the package first');
  ({ dir, cleanup } = await tempDir());
});
afterAll(async () => {
  await cleanup();
});

/** Runs the child until it is ready, lets it work for `ms`, kills it with SIGKILL; returns what it acked. */
async function killedRun(round: number, ms: number, checkpointBytes: number): Promise<Acked[]> {
  const running = await startReadyChild(child, [dir, String(round), String(checkpointBytes)]);
  await new Promise((resolve) => setTimeout(resolve, ms));
  const out = await running.crash();
  // Only complete lines were acknowledged; a line cut by the kill was not fully printed.
  const lines = out.split('\n').slice(1, -1);
  return lines.map((line) => JSON.parse(line) as Acked);
}

describe('crash safety', () => {
  test(`every acknowledged input survives SIGKILL at random moments (${ROUNDS} rounds)`, async () => {
    const acked: Acked[] = [];
    let lastEventId = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate checkpoint sizes so kills also land during checkpoints and journal truncation.
      const checkpointBytes = round % 2 === 0 ? 4096 : 1 << 20;
      const acks = await killedRun(round, 20 + Math.floor(Math.random() * 150), checkpointBytes);
      acked.push(...acks);

      const runtime = await Runtime.open({ store: createFsStore({ data_dir: dir }) });
      try {
        const summary = await runtime.summary();
        // Ids continue: everything acknowledged is at or below the recovered last id.
        expect(summary.last_event_id).toBeGreaterThanOrEqual(Math.max(lastEventId, ...acks.map((a) => a.ack.event_id)));
        for (const { worker, content, ack } of acks) {
          let sequence = ack.transcript_sequence;
          if (sequence === null) {
            // Queued when the child died: it resumes now and gets its entry when it starts.
            const run = await runtime.getRun(worker, ack.run_id as string, { wait_ms: 10_000 });
            sequence = run.input_sequence;
          }
          const [entry] = (await runtime.transcript(worker, { start: (sequence as number) - 1, limit: 1 })).items;
          expect(entry?.content).toBe(content);
          const [event] = (await runtime.readEvents({ after: ack.event_id - 1, limit: 1 })).items;
          expect(event?.id).toBe(ack.event_id);
          expect(event?.kind).toBe('worker_input_accepted');
          expect(event?.worker_ref?.worker_id).toBe(worker);
        }
        // Event ids are dense and never reused: every id from the last round on is present once.
        const events = (await runtime.readEvents({ after: lastEventId, limit: 1000 })).items;
        expect(events.map((event) => event.id)).toEqual(events.map((_, i) => lastEventId + i + 1));
        lastEventId = (await runtime.summary()).last_event_id;
      } finally {
        await runtime.close();
      }
    }
    expect(acked.length).toBeGreaterThan(ROUNDS);
  }, 60_000);
});

// Deletes run in their own data dir: a create/fill/delete loop in a child, killed at random moments.
const deleteChild = new URL('./test-support/delete-crash-child.mjs', import.meta.url).pathname;
const DELETE_ROUNDS = 24;
const create = { intent: { kind: 'assistant' as const }, profile: { kind: 'runtime_default' as const } };

describe('crash safety of deletes', () => {
  test(`a SIGKILL at any point of a delete leaves the worker intact or fully deleted (${DELETE_ROUNDS} rounds)`, async () => {
    const deletesDir = join(dir, 'deletes');
    let deletions = 0;
    let intact = 0;
    for (let round = 0; round < DELETE_ROUNDS; round++) {
      const checkpointBytes = round % 2 === 0 ? 2048 : 1 << 20;
      const running = await startReadyChild(deleteChild, [deletesDir, String(round), String(checkpointBytes)]);
      // The kill lands at a random point after the first worker is complete, so a slow (loaded)
      // machine still kills during deletes rather than mostly before the first one.
      await running.printed('"complete"', 10_000);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 300)));
      const lines = (await running.crash()).split('\n').slice(1, -1);
      const printed = lines.map((line) => JSON.parse(line) as { complete?: string; deleted?: string });
      const complete = printed.flatMap((p) => (p.complete ? [p.complete] : []));
      const deleted = new Set(printed.flatMap((p) => (p.deleted ? [p.deleted] : [])));
      // The worker being created when the kill came may exist without being complete; it is checked too.
      const started = [...complete, `d${round}-${complete.length}`];

      const runtime = await Runtime.open({ store: createFsStore({ data_dir: deletesDir }) });
      try {
        const [runtime_id] = await listFsRuntimes(deletesDir);
        const workersDir = join(deletesDir, 'runtimes', runtime_id as string, 'workers');
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
    expect(deletions).toBeGreaterThan(DELETE_ROUNDS / 2);
    // Some kills landed between "complete" and the delete's ack, where either outcome is right.
    expect(deletions + intact).toBeGreaterThan(DELETE_ROUNDS);
  }, 90_000);
});
