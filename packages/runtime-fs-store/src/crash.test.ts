import { existsSync } from 'node:fs';
import { type InputAck, Runtime } from '@worker-runtime/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
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
