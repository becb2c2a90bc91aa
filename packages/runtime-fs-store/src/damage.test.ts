import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Diagnostic, Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();
const root = () => join(temp.dir, 'runtimes', 'rt');

const open = (on_diagnostic: (d: Diagnostic) => void = () => undefined) =>
  Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir, on_diagnostic }) });

async function seed(): Promise<void> {
  const runtime = await open();
  await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  for (const [i, content] of ['one', 'two', 'three'].entries()) {
    await runtime.sendInput('w', { kind: 'system', content, idempotency_key: `k${i + 1}` });
  }
  await runtime.close();
}

/** Overwrites the byte in the middle of the line of `path` that contains `marker` with a NUL. */
async function corruptLine(path: string, marker: string): Promise<void> {
  const bytes = await readFile(path);
  const at = bytes.indexOf(marker);
  expect(at).toBeGreaterThan(-1);
  bytes[at + 1] = 0;
  await writeFile(path, bytes);
}

const contents = async (runtime: Runtime): Promise<string[]> =>
  (await runtime.transcript('w')).items.map((entry) => entry.content);

describe('a damaged snapshot never costs a later acknowledged write', () => {
  for (const damage of ['deleted', 'garbage'] as const) {
    test(`checkpoint.json ${damage}: writes after reopen are kept across the next restart`, async () => {
      await seed();
      const checkpoint = join(root(), 'checkpoint.json');
      if (damage === 'deleted') await rm(checkpoint);
      else await writeFile(checkpoint, '{"format":1,"bat\u0000');
      const runtime = await open();
      const codes = (await runtime.diagnostics()).map((d) => d.code);
      expect(codes).toContain('store_corrupt_record');
      for (const content of ['four', 'five', 'six']) await runtime.sendInput('w', { kind: 'system', content });
      expect(await contents(runtime)).toEqual(['one', 'two', 'three', 'four', 'five', 'six']);
      await runtime.close();
      const again = await open();
      expect(await contents(again)).toEqual(['one', 'two', 'three', 'four', 'five', 'six']);
      await again.close();
    });
  }
});

describe('smaller damage', () => {
  test('a corrupt idempotency record: a replay of its key is refused, never run again, also after a restart', async () => {
    await seed();
    await corruptLine(join(root(), 'workers', 'w', 'idempotency.jsonl'), '"key":"k2"');
    const seen: Diagnostic[] = [];
    const runtime = await open((d) => seen.push(d));
    await expect(
      runtime.sendInput('w', { kind: 'system', content: 'two', idempotency_key: 'k2' }),
    ).rejects.toMatchObject({
      code: 'idempotency_conflict',
    });
    expect(seen.map((d) => d.code)).toContain('store_idempotency_damaged');
    expect(seen.find((d) => d.code === 'store_idempotency_damaged')?.message).toContain('worker w');
    // Intact keys replay; a key never used runs.
    expect(await runtime.sendInput('w', { kind: 'system', content: 'one', idempotency_key: 'k1' })).toMatchObject({
      replayed: true,
      transcript_sequence: 1,
    });
    const fresh = await runtime.sendInput('w', { kind: 'system', content: 'four', idempotency_key: 'k4' });
    expect(fresh).toMatchObject({ replayed: false, transcript_sequence: 4 });
    await runtime.close();
    const again = await open();
    await expect(again.sendInput('w', { kind: 'system', content: 'two', idempotency_key: 'k2' })).rejects.toMatchObject(
      {
        code: 'idempotency_conflict',
      },
    );
    expect(await contents(again)).toEqual(['one', 'two', 'three', 'four']);
    await again.close();
  });

  test('a corrupt line in events.jsonl is reported with its id, and readers continue past the gap', async () => {
    await seed();
    const before = await open();
    const events = (await before.readEvents({ limit: 100 })).items;
    await before.close();
    const target = events.find((event) => event.kind === 'worker_input_accepted') as (typeof events)[number];
    await corruptLine(join(root(), 'events.jsonl'), `{"id":${target.id},`);
    const seen: Diagnostic[] = [];
    const runtime = await open((d) => seen.push(d));
    const page = await runtime.readEvents({ after: target.id - 1, limit: 2 });
    expect(page.items.map((event) => event.id)).toEqual([target.id + 1, target.id + 2]);
    expect(seen.map((d) => [d.code, d.message])).toContainEqual([
      'store_corrupt_record',
      `event ${target.id} could not be read and was skipped`,
    ]);
    // The id is not handed out again.
    expect((await runtime.sendInput('w', { kind: 'system', content: 'four' })).event_id).toBeGreaterThan(
      events.at(-1)?.id ?? 0,
    );
    await runtime.close();
  });

  test('a 10-byte truncation of events.idx loses no event, however often the store reopens', async () => {
    await seed();
    const first = await open();
    const ids = (await first.readEvents({ limit: 100 })).items.map((event) => event.id);
    await first.close();
    const index = join(root(), 'events.idx');
    await truncate(index, (await readFile(index)).length - 10);
    for (let round = 0; round < 2; round++) {
      const seen: Diagnostic[] = [];
      const runtime = await open((d) => seen.push(d));
      expect((await runtime.readEvents({ limit: 100 })).items.map((event) => event.id).slice(0, ids.length)).toEqual(
        ids,
      );
      if (round === 0) expect((await runtime.diagnostics()).map((d) => d.code)).toContain('store_index_rebuilt');
      await runtime.close();
    }
  });

  test('a damaged worker.json: the worker stays readable and its id reserved', async () => {
    await seed();
    await corruptLine(join(root(), 'workers', 'w', 'worker.json'), '"worker_id"');
    const runtime = await open();
    expect(await contents(runtime)).toEqual(['one', 'two', 'three']);
    await expect(
      runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } }),
    ).rejects.toMatchObject({ code: 'duplicate_worker' });
    // Its record survives in history.jsonl, so it is rebuilt as it was (idle) and takes input.
    expect((await runtime.getWorker('w')).status).toBe('idle');
    expect((await runtime.sendInput('w', { kind: 'system', content: 'four' })).transcript_sequence).toBe(4);
    const diagnostics = await runtime.diagnostics();
    expect(diagnostics.find((d) => d.code === 'store_worker_rebuilt')?.message).toContain('worker w');
    await runtime.close();
  });
});

test('workers rebuilt without worker.json keep their creation order and records', async () => {
  const runtime = await Runtime.open({
    runtime_id: 'rt',
    store: createFsStore({ data_dir: temp.dir, checkpoint_bytes: 1 << 30 }),
  });
  for (const worker_id of ['zeta', 'alpha']) {
    await runtime.createWorker({
      worker_id,
      display_name: `${worker_id} display`,
      intent: { kind: 'assistant' },
      profile: { kind: 'runtime_default' },
    });
    await runtime.sendInput(worker_id, { kind: 'system', content: `${worker_id} one` });
  }
  await writeFile(join(root(), 'LOCK'), `${JSON.stringify({ pid: 2 ** 22 + 12345, acquired_at: '' })}\n`);
  for (const worker_id of ['zeta', 'alpha']) await rm(join(root(), 'workers', worker_id, 'worker.json'));
  const reopened = await open();
  const workers = (await reopened.listWorkers()).workers;
  expect(workers.map((w) => [w.worker_id, w.display_name, w.status])).toEqual([
    ['zeta', 'zeta display', 'idle'],
    ['alpha', 'alpha display', 'idle'],
  ]);
  expect((await reopened.transcript('alpha')).items.map((entry) => entry.content)).toEqual(['alpha one']);
  await reopened.close();
});
