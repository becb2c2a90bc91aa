import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type InputAck, Runtime } from '@worker-runtime/core';
import { beforeAll, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { listFsRuntimes } from './runtime-dirs.js';
import { startReadyChild } from './test-support/ready-child.js';
import { useTempDir } from './test-support/temp-dir.js';

const child = new URL('./test-support/crash-child.mjs', import.meta.url).pathname;
const ROUNDS = 16;
const RETAINED = 40;

const temp = useTempDir();
beforeAll(() => {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('build the package first');
});

test(`SIGKILL while the event log is trimmed: it reopens whole, ids dense and never reused (${ROUNDS} rounds)`, async () => {
  const dir = temp.dir;
  let lastEventId = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const running = await startReadyChild(child, [dir, String(round), String(1 << 20), String(RETAINED)]);
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 150)));
    const lines = (await running.crash()).split('\n').slice(1, -1);
    const acks = lines.map((line) => JSON.parse(line) as { worker: string; content: string; ack: InputAck });

    const runtime = await Runtime.open({
      store: createFsStore({ data_dir: dir }),
      retention: { max_retained_events: RETAINED },
    });
    try {
      const { last_event_id } = await runtime.summary();
      expect(last_event_id).toBeGreaterThanOrEqual(Math.max(lastEventId, ...acks.map((a) => a.ack.event_id)));
      // The transcript is not trimmed: every acknowledged system input is there.
      for (const { worker, content, ack } of acks) {
        if (ack.transcript_sequence === null) continue;
        const [entry] = (await runtime.transcript(worker, { start: ack.transcript_sequence - 1, limit: 1 })).items;
        expect(entry?.content).toBe(content);
      }
      // One pair of event files; from the oldest retained id on, every id up to the last is there once.
      const [runtimeId] = await listFsRuntimes(dir);
      const files = (await readdir(join(dir, 'runtimes', runtimeId as string))).filter((n) => n.startsWith('events.'));
      expect(files).toHaveLength(2);
      if (last_event_id >= 2 * RETAINED) expect(files).not.toContain('events.jsonl');
      const ids = (await runtime.readEvents({ after: 0, limit: 1000 })).items.map((event) => event.id);
      expect(ids).toEqual(ids.map((_, i) => (ids[0] as number) + i));
      expect(ids.at(-1)).toBe(last_event_id);
      expect(ids.length).toBeLessThan(2 * RETAINED + 64);
      lastEventId = last_event_id;
    } finally {
      await runtime.close();
    }
  }
}, 240_000);
