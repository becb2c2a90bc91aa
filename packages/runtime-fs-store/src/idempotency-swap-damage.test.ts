import { mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Diagnostic, IdempotencyRecord, RuntimeStore } from '@worker-runtime/core';
import { workerRecord } from '@worker-runtime/core/testing';
import { describe, expect, test } from 'vitest';
import { type FsLike, nodeFs } from './fs-like.js';
import { createFsStore } from './fs-store.js';
import { at, idempotencyRecord } from './test-support/idempotency-records.js';
import { useTempDir } from './test-support/temp-dir.js';

// Damage to what an interrupted idempotency log rewrite leaves: `worker.json` claiming the new log
// with `idempotency_swap`, `idempotency.jsonl.new` beside the old log. The state is made for real:
// the rename of the new log fails, the store goes on, and the process "dies" before the next snapshot.

const temp = useTempDir();
const dir = () => join(temp.dir, 'runtimes', 'rt', 'workers', 'w');
const record = (n: number): IdempotencyRecord => idempotencyRecord('w', n);

async function openStore(fs: FsLike, seen: Diagnostic[] = []): Promise<RuntimeStore> {
  const store = createFsStore({ data_dir: temp.dir, fs });
  await store.open({
    runtime_id: 'rt',
    generate_id: () => 'rt',
    now: at(0),
    max_diagnostics: 100,
    max_retained_events: 100_000,
    report_diagnostic: (d) => seen.push(d),
  });
  return store;
}

/**
 * k0..k5 committed and an expiry of k0..k2 asked for, then: `crash`, the process dies as the new
 * log is about to be renamed into place (its snapshot with the swap flag written); `failed`, that
 * rename fails, the store goes on, k6 is committed and written to the log, and the process dies.
 */
async function interruptedSwap(how: 'crash' | 'failed'): Promise<void> {
  let renaming = (): void => undefined;
  const reached = new Promise<void>((resolve) => {
    renaming = resolve;
  });
  const fs: FsLike = {
    ...nodeFs,
    async rename(from, to) {
      if (!from.endsWith('.new')) return nodeFs.rename(from, to);
      renaming();
      if (how === 'failed') throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
      // The process is gone from here on: nothing after this step runs.
      return new Promise<void>(() => undefined);
    },
  };
  const store = await openStore(fs);
  await store.commit([{ type: 'worker', worker: workerRecord('w') }]);
  for (let n = 0; n < 6; n++) await store.commit([{ type: 'idempotency', record: record(n) }]);
  const expiring = store.expireIdempotency?.(at(3));
  await reached;
  expect(await readFile(join(dir(), 'worker.json'), 'utf8')).toContain('idempotency_swap');
  if (how === 'failed') {
    await expiring;
    await store.commit([{ type: 'idempotency', record: record(6) }]);
    // Writes k6's line to the old log now (log lines are written behind the acknowledgement).
    await store.readTranscript('w', 0, 1);
  }
  await rm(join(temp.dir, 'runtimes', 'rt', 'LOCK'));
}

const keysOnDisk = async (): Promise<string[]> =>
  (await readFile(join(dir(), 'idempotency.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as IdempotencyRecord).key);

async function expectLive(store: RuntimeStore, live: number[]): Promise<void> {
  for (const n of live) expect(await store.getIdempotency('w', `k${n}`)).toEqual(record(n));
  for (const n of [0, 1, 2]) expect([null, record(n)]).toContainEqual(await store.getIdempotency('w', `k${n}`));
}

const DAMAGES: Record<string, (path: string) => Promise<void>> = {
  deleted: (path) => rm(path),
  torn: async (path) => truncate(path, (await readFile(path)).length - 5),
  garbage: (path) => writeFile(path, 'garbage\u0000\n'),
  'a directory': async (path) => {
    await rm(path);
    await mkdir(path);
  },
};

describe('an interrupted idempotency log rewrite whose new log is damaged', () => {
  for (const [damage, apply] of Object.entries(DAMAGES)) {
    test(`idempotency.jsonl.new ${damage}: the old log is kept, no live record is lost`, async () => {
      await interruptedSwap('crash');
      await apply(join(dir(), 'idempotency.jsonl.new'));
      const seen: Diagnostic[] = [];
      const again = await openStore(nodeFs, seen);
      expect(seen.filter((d) => d.code === 'store_idempotency_damaged')).toEqual([]);
      await expectLive(again, [3, 4, 5]);
      await again.commit([{ type: 'idempotency', record: record(7) }]);
      await again.close();
      const third = await openStore(nodeFs);
      await expectLive(third, [3, 4, 5, 7]);
      await third.close();
    });
  }

  test('undamaged, the next open finishes the swap', async () => {
    await interruptedSwap('crash');
    const again = await openStore(nodeFs);
    await expectLive(again, [3, 4, 5]);
    await again.close();
    expect(await keysOnDisk()).toEqual(['k3', 'k4', 'k5']);
  });
});

describe('a rewrite whose rename failed, the store going on', () => {
  test('a record written to the old log after it survives a crash that also loses the journal', async () => {
    await interruptedSwap('failed');
    await rm(join(temp.dir, 'runtimes', 'rt', 'journal.jsonl'));
    const again = await openStore(nodeFs);
    await expectLive(again, [3, 4, 5, 6]);
    await again.close();
  });

  test('and after a plain crash', async () => {
    await interruptedSwap('failed');
    const seen: Diagnostic[] = [];
    const again = await openStore(nodeFs, seen);
    expect(seen.filter((d) => d.severity !== 'info')).toEqual([]);
    await expectLive(again, [3, 4, 5, 6]);
    await again.close();
  });
});
