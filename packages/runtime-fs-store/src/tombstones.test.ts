import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Diagnostic, Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { type FsLike, nodeFs } from './fs-like.js';
import { createFsStore } from './fs-store.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();
const file = (name: string) => join(temp.dir, 'runtimes', 'rt', name);

const open = () => Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir }) });

const create = (runtime: Runtime, worker_id: string) =>
  runtime.createWorker({ worker_id, intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });

/** Workers `gone1`, `gone2` deleted (and checkpointed: the journal no longer holds the deletes), `kept` kept. */
async function seed(): Promise<void> {
  const runtime = await open();
  for (const id of ['gone1', 'kept', 'gone2']) await create(runtime, id);
  await runtime.deleteWorker('gone1', { force: true });
  await runtime.deleteWorker('gone2', { force: true });
  await runtime.close();
}

/** Reopens; the deleted ids are still reserved and the kept worker is there, also after the next restart. */
async function expectTombstones(gone: readonly string[] = ['gone1', 'gone2']): Promise<Diagnostic[]> {
  const seen: Diagnostic[] = [];
  for (let restart = 0; restart < 2; restart++) {
    const runtime = await open();
    if (restart === 0) seen.push(...(await runtime.diagnostics()));
    expect((await runtime.listWorkers()).workers.map((w) => w.worker_ref.worker_id)).toEqual(['kept']);
    for (const id of gone) {
      await expect(create(runtime, id)).rejects.toMatchObject({ code: 'duplicate_worker' });
    }
    await runtime.close();
  }
  return seen;
}

describe('tombstones survive the loss of either copy', () => {
  test('checkpoint.json lost after its journal was emptied: deleted ids stay reserved', async () => {
    await seed();
    await rm(file('checkpoint.json'));
    await expectTombstones();
    // The rebuilt checkpoint lists them again, so the next loss of the other copy costs nothing either.
    await rm(file('deleted-workers.jsonl'));
    await expectTombstones();
  });

  test('deleted-workers.jsonl lost, torn or garbled: rebuilt from checkpoint.json', async () => {
    for (const damage of ['deleted', 'torn', 'garbage'] as const) {
      await seed();
      const path = file('deleted-workers.jsonl');
      const before = await readFile(path, 'utf8');
      expect(before.split('\n').filter((line) => line !== '')).toHaveLength(2);
      if (damage === 'deleted') await rm(path);
      else if (damage === 'torn') await truncate(path, before.length - 5);
      else await writeFile(path, 'garbage\u0000\n');
      const seen = await expectTombstones();
      if (damage !== 'deleted') expect(seen.map((d) => d.code)).toContain('store_torn_tail_repaired');
      expect((await readFile(path, 'utf8')).split('\n').sort()).toEqual(before.split('\n').sort());
      // And now the checkpoint can go too.
      await rm(file('checkpoint.json'));
      await expectTombstones();
      await rm(join(temp.dir, 'runtimes'), { recursive: true });
    }
  });

  test('a delete interrupted while its directory is removed is finished once, its tombstone listed once', async () => {
    let removing = (): void => undefined;
    const reached = new Promise<void>((resolve) => {
      removing = resolve;
    });
    const fs: FsLike = {
      ...nodeFs,
      // The process dies as the worker's directory is about to go (its tombstone appended).
      removeTree: () => {
        removing();
        return new Promise<void>(() => undefined);
      },
    };
    const runtime = await Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir, fs }) });
    for (const id of ['gone', 'kept']) await create(runtime, id);
    void runtime.deleteWorker('gone', { force: true });
    await reached;
    await rm(file('LOCK'));
    const again = await open();
    expect((await again.listWorkers()).workers.map((w) => w.worker_ref.worker_id)).toEqual(['kept']);
    await again.close();
    expect(await readFile(file('deleted-workers.jsonl'), 'utf8')).toBe('{"worker_id":"gone"}\n');
    await expectTombstones(['gone']);
  });
});
