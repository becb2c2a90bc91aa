import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();
const root = () => join(temp.dir, 'runtimes', 'rt');

const open = () => Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir }) });

async function seed(): Promise<void> {
  const runtime = await open();
  await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  for (const content of ['one', 'two', 'three']) await runtime.sendInput('w', { kind: 'system', content });
  await runtime.close();
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
