import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime } from '@worker-runtime/core';
import { describe, expect, test, vi } from 'vitest';
import { type FsLike, nodeFs } from './fs-like.js';
import { createFsStore } from './fs-store.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();
const root = () => join(temp.dir, 'runtimes', 'rt');

/** The real file system with every `fsync` (checkpoints use it; the journal uses `fdatasync`) held while `hold` is set. */
function holdingFsyncs(): { fs: FsLike; hold: (on: boolean) => void; held: () => number } {
  let gate: Promise<void> | null = null;
  let open: () => void = () => undefined;
  let waiting = 0;
  const fs: FsLike = {
    ...nodeFs,
    async fsync(fd) {
      if (gate) {
        waiting++;
        await gate;
      }
      return nodeFs.fsync(fd);
    },
  };
  const hold = (on: boolean) => {
    if (on) {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    } else {
      gate = null;
      open();
    }
  };
  return { fs, hold, held: () => waiting };
}

const contents = async (runtime: Runtime): Promise<string[]> =>
  (await runtime.transcript('w', { limit: 1000 })).items.map((entry) => entry.content);

describe('checkpoints behind the commits', () => {
  test('commits are acknowledged while a checkpoint runs; a crash after it loses none of them', async () => {
    const { fs, hold, held } = holdingFsyncs();
    const store = createFsStore({ data_dir: temp.dir, fs, checkpoint_bytes: 4096 });
    const runtime = await Runtime.open({ runtime_id: 'rt', store });
    await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    hold(true);
    const sent: string[] = [];
    // Enough to pass checkpoint_bytes: a checkpoint starts and hangs on its first fsync.
    while (held() === 0) {
      const content = `before ${sent.length}`;
      await runtime.sendInput('w', { kind: 'system', content });
      sent.push(content);
    }
    // The checkpoint is stuck; commits still go through (the journal's fdatasync is not held).
    for (let i = 0; i < 20; i++) {
      const content = `during ${i}`;
      await runtime.sendInput('w', { kind: 'system', content });
      sent.push(content);
    }
    hold(false);
    // The checkpoint finishes: the journal keeps only what came after the batch it folded in.
    await vi.waitFor(async () => {
      const checkpoint = JSON.parse(await readFile(join(root(), 'checkpoint.json'), 'utf8')) as { batch: number };
      const [first] = (await readFile(join(root(), 'journal.jsonl'), 'utf8')).split('\n');
      expect(checkpoint.batch).toBeGreaterThan(1);
      expect((JSON.parse(first as string) as { batch: number }).batch).toBe(checkpoint.batch + 1);
    });
    const after = 'after the checkpoint';
    await runtime.sendInput('w', { kind: 'system', content: after });
    sent.push(after);
    expect(await contents(runtime)).toEqual(sent);

    // The process dies (the store is never closed): everything acknowledged is there after reopen.
    await nodeFs.unlink(join(root(), 'LOCK'));
    const reopened = await Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir }) });
    expect(await contents(reopened)).toEqual(sent);
    const diagnostics = (await reopened.diagnostics()).filter((d) => d.code.startsWith('store_'));
    expect(diagnostics.filter((d) => d.severity === 'warning')).toEqual([]);
    await reopened.close();
  });
});
