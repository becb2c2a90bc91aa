import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type FsLike, nodeFs } from './fs-like.js';
import { Journal } from './journal.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();

/** The real file system with every fdatasync held until the test releases it. */
function heldSyncs(): { fs: FsLike; held: { release: () => void; fail: (error: Error) => void }[] } {
  const held: { release: () => void; fail: (error: Error) => void }[] = [];
  const fs: FsLike = {
    ...nodeFs,
    fdatasync: (fd) =>
      new Promise<void>((resolve, reject) => {
        held.push({
          release: () => void nodeFs.fdatasync(fd).then(resolve, reject),
          fail: reject,
        });
      }),
  };
  return { fs, held };
}

const line = (batch: number) => ({ batch, parts: [`{"type":"event","event":{"id":${batch}}}`] });
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Journal', () => {
  test("an append is written while the previous one's fdatasync is still in flight; each is durable on its own", async () => {
    const { fs, held } = heldSyncs();
    const path = join(temp.dir, 'journal.jsonl');
    const { journal } = await Journal.open(fs, path);
    const first = await journal.append([line(1)]);
    const second = await journal.append([line(2)]);
    // Both appends are on the file and both syncs are in flight at once.
    expect(held).toHaveLength(2);
    expect((await readFile(path, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
    expect(second.journal_end).toBeGreaterThan(first.journal_end);
    let firstDurable = false;
    void first.durable.then(() => {
      firstDurable = true;
    });
    held[0]?.release();
    await first.durable;
    expect(firstDurable).toBe(true);
    held[1]?.release();
    await second.durable;
    await journal.close();
  });

  test('a failed fdatasync cuts the journal back to before its append, later appends included', async () => {
    const { fs, held } = heldSyncs();
    const path = join(temp.dir, 'journal.jsonl');
    const { journal } = await Journal.open(fs, path);
    const kept = await journal.append([line(1)]);
    held[0]?.release();
    await kept.durable;
    const failing = await journal.append([line(2)]);
    const later = await journal.append([line(3)]);
    held[1]?.fail(Object.assign(new Error('EIO: injected'), { code: 'EIO' }));
    await expect(failing.durable).rejects.toThrow('EIO');
    held[2]?.release();
    await later.durable;
    await tick();
    expect(await readFile(path, 'utf8')).toBe('{"batch":1,"records":[{"type":"event","event":{"id":1}}]}\n');
    await journal.close();
  });
  test('an append of several batches writes one line each; starts point at each records array', async () => {
    const path = join(temp.dir, 'journal.jsonl');
    const { journal } = await Journal.open(nodeFs, path);
    const appended = await journal.append([
      { batch: 7, parts: ['{"type":"a"}', '{"type":"b"}'] },
      { batch: 8, parts: ['{"type":"c"}'] },
    ]);
    await appended.durable;
    const text = '{"batch":7,"records":[{"type":"a"},{"type":"b"}]}\n{"batch":8,"records":[{"type":"c"}]}\n';
    expect(await readFile(path, 'utf8')).toBe(text);
    expect(appended.starts?.map((start) => appended.bytes.toString('utf8', start, start + 13))).toEqual([
      '[{"type":"a"}',
      '[{"type":"c"}',
    ]);
    const other = await journal.append([{ batch: 9, parts: ['{"type":"é"}'] }]);
    expect(other.starts).toBeNull();
    await other.durable;
    await journal.close();
  });
});
