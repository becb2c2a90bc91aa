import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime } from '@worker-runtime/core';
import { beforeAll, describe, expect, test } from 'vitest';
import type { WorkerFile } from './file-schemas.js';
import { createFsStore } from './fs-store.js';
import { faultFs } from './test-support/fault-fs.js';
import { startReadyChild } from './test-support/ready-child.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();
const child = new URL('./test-support/snapshot-child.mjs', import.meta.url).pathname;

beforeAll(() => {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('build the package first');
});

const workerJson = (worker_id: string) => join(temp.dir, 'runtimes', 'rt', 'workers', worker_id, 'worker.json');
const readWorkerJson = async (worker_id: string) =>
  JSON.parse(await readFile(workerJson(worker_id), 'utf8')) as WorkerFile;
const journalBatches = async () =>
  (await readFile(join(temp.dir, 'runtimes', 'rt', 'journal.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { batch: number }).batch);

/** A Runtime whose journal is never folded by size, so only creation and stop write worker.json. */
function openRuntime(): Promise<Runtime> {
  return Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir, checkpoint_bytes: 1 << 30 }) });
}

const create = (runtime: Runtime, worker_id: string) =>
  runtime.createWorker({ worker_id, intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });

describe('worker.json between checkpoints', () => {
  test('exists as soon as createWorker resolves, before any checkpoint', async () => {
    const runtime = await openRuntime();
    await create(runtime, 'w');
    const file = await readWorkerJson('w');
    expect(file.worker).toMatchObject({ worker_id: 'w', status: 'idle' });
    // The journal still holds the creating batch: no checkpoint folded it.
    expect(await journalBatches()).toContain(file.batch);
    expect(file.event_ids).toBeGreaterThan(0);
    await runtime.close();
  });

  test('reflects the stopped record as soon as stopWorker resolves', async () => {
    const runtime = await openRuntime();
    await create(runtime, 'w');
    await runtime.sendInput('w', { kind: 'system', content: 'hello' });
    const ack = await runtime.stopWorker('w', { reason: 'done' });
    const file = await readWorkerJson('w');
    expect(file.worker).toMatchObject({ status: 'stopped', stopped_event_id: ack.event_id });
    expect(file.transcript.count).toBe(1);
    await runtime.close();
  });

  test('inputs leave worker.json as it was', async () => {
    const runtime = await openRuntime();
    await create(runtime, 'w');
    const before = await readFile(workerJson('w'), 'utf8');
    for (const content of ['one', 'two']) await runtime.sendInput('w', { kind: 'system', content });
    expect(await readFile(workerJson('w'), 'utf8')).toBe(before);
    await runtime.close();
  });

  test('a failed snapshot leaves the creation committed and stops later commits, as a failed checkpoint does', async () => {
    const fs = faultFs();
    const runtime = await Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir, fs }) });
    fs.fault = { call: 'fsync', file: 'worker.json.tmp', code: 'EIO' };
    await create(runtime, 'w');
    fs.fault = null;
    await expect(runtime.sendInput('w', { kind: 'system', content: 'later' })).rejects.toMatchObject({
      code: 'store_unavailable',
    });
    await runtime.close();
    const reopened = await openRuntime();
    expect((await reopened.listWorkers()).workers.map((w) => w.worker_id)).toEqual(['w']);
    await reopened.close();
  });

  test('after SIGKILL, reopening replays only what is newer than each worker.json', async () => {
    await (await startReadyChild(child, [temp.dir])).crash();

    // Written between checkpoints: `first` as stopped, `second` as created; inputs only in the journal.
    const first = await readWorkerJson('first');
    const second = await readWorkerJson('second');
    expect(first.worker.status).toBe('stopped');
    expect(first.transcript.count).toBe(2);
    expect(second.worker.status).toBe('idle');
    expect(second.transcript.count).toBe(0);
    expect(Math.max(...(await journalBatches()))).toBeGreaterThan(second.batch);

    const runtime = await openRuntime();
    expect((await runtime.listWorkers()).workers.map((w) => [w.worker_id, w.status])).toEqual([
      ['first', 'stopped'],
      ['second', 'idle'],
    ]);
    const contents = async (id: string) => (await runtime.transcript(id)).items.map((entry) => entry.content);
    expect(await contents('first')).toEqual(['first one', 'first two']);
    expect(await contents('second')).toEqual(['second one']);
    // Nothing was applied twice: each worker's events are exactly those naming it in the global log.
    const all = (await runtime.readEvents({ limit: 1000 })).items;
    expect(all.map((event) => event.id)).toEqual(all.map((_, i) => i + 1));
    for (const id of ['first', 'second']) {
      const own = (await runtime.readEvents({ worker_id: id, limit: 1000 })).items.map((event) => event.id);
      expect(own).toEqual(all.filter((event) => event.worker_ref?.worker_id === id).map((event) => event.id));
    }
    expect((await runtime.sendInput('second', { kind: 'system', content: 'second two' })).transcript_sequence).toBe(2);
    await expect(runtime.sendInput('first', { kind: 'system', content: 'late' })).rejects.toMatchObject({
      code: 'worker_stopped',
    });
    await runtime.close();
  });
});
