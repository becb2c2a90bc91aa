import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Diagnostic, IdempotencyRecord } from '@worker-runtime/core';
import { beforeAll, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { startReadyChild } from './test-support/ready-child.js';
import { useTempDir } from './test-support/temp-dir.js';

const child = new URL('./test-support/expiry-crash-child.mjs', import.meta.url).pathname;
const ROUNDS = 16;

const temp = useTempDir();
beforeAll(() => {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('build the package first');
});

test(`SIGKILL while idempotency logs are rewritten loses no live record and reports no damage (${ROUNDS} rounds)`, async () => {
  const acked: IdempotencyRecord[] = [];
  let cutoff = '';
  let traces = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const checkpointBytes = round % 2 === 0 ? 4096 : 1 << 20;
    const running = await startReadyChild(child, [temp.dir, String(round), String(checkpointBytes)]);
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.floor(Math.random() * 250)));
    // A line cut by the kill was not fully printed: only complete lines count.
    const lines = (await running.crash()).split('\n').slice(1, -1);
    for (const line of lines) {
      const parsed = JSON.parse(line) as { record?: IdempotencyRecord; cutoff?: string };
      if (parsed.record) acked.push(parsed.record);
      // Printed before it was asked for: the store may have applied any cutoff printed.
      if (parsed.cutoff !== undefined && parsed.cutoff > cutoff) cutoff = parsed.cutoff;
    }

    // Traces of a rewrite: its new log (a kill before the rename) or the swap flag of its snapshot.
    for (const id of ['a', 'b', 'c']) {
      const dir = join(temp.dir, 'runtimes', 'rt', 'workers', id);
      const names = existsSync(dir) ? await readdir(dir) : [];
      const snapshot = names.includes('worker.json') ? await readFile(join(dir, 'worker.json'), 'utf8') : '';
      if (names.includes('idempotency.jsonl.new') || snapshot.includes('idempotency_swap')) traces++;
    }
    const seen: Diagnostic[] = [];
    const store = createFsStore({ data_dir: temp.dir });
    await store.open({
      runtime_id: 'rt',
      generate_id: () => 'rt',
      now: new Date().toISOString(),
      max_diagnostics: 100,
      max_retained_events: 100_000,
      report_diagnostic: (d) => seen.push(d),
    });
    try {
      // A kill may tear the journal's last append; nothing about an idempotency log is reported.
      const idempotency = seen.filter(
        (d) => d.code === 'store_idempotency_damaged' || d.message.includes('idempotency'),
      );
      expect(idempotency).toEqual([]);
      for (const record of acked) {
        const found = await store.getIdempotency(record.worker_id, record.key);
        if ((record.created_at as string) >= cutoff) expect(found).toEqual(record);
        else expect([null, record]).toContainEqual(found);
      }
    } finally {
      await store.close();
    }
  }
  expect(acked.length).toBeGreaterThan(ROUNDS * 20);
  // Some kills left a rewrite's traces (its new log, or the swap flag its snapshot keeps until the next one).
  expect(traces).toBeGreaterThan(0);
  // The logs were rewritten: each holds far fewer records than were made for its worker.
  for (const id of ['a', 'b', 'c']) {
    const lines = (await readFile(join(temp.dir, 'runtimes', 'rt', 'workers', id, 'idempotency.jsonl'), 'utf8')).split(
      '\n',
    );
    expect(lines.length).toBeLessThan(acked.filter((record) => record.worker_id === id).length / 2);
  }
}, 240_000);
