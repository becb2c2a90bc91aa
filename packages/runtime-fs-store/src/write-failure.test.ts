import { readFile, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { faultFs } from './test-support/fault-fs.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();

const journal = () => join(temp.dir, 'runtimes', 'rt', 'journal.jsonl');

async function runtimeWith(fs = faultFs()): Promise<{ runtime: Runtime; fs: ReturnType<typeof faultFs> }> {
  const runtime = await Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir, fs }) });
  await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  await runtime.sendInput('w', { kind: 'system', content: 'before' });
  return { runtime, fs };
}

describe('write failures', () => {
  test.each([
    ['ENOSPC', 'write'],
    ['EIO', 'fdatasync'],
    ['EROFS', 'write'],
  ] as const)(
    '%s on a journal %s makes mutations fail with store_unavailable while reads go on',
    async (code, call) => {
      const { runtime, fs } = await runtimeWith();
      fs.fault = { call, file: 'journal.jsonl', code, partial_bytes: 37 };
      const failed = runtime.sendInput('w', { kind: 'system', content: 'lost' });
      await expect(failed).rejects.toMatchObject({ code: 'store_unavailable' });
      const error = await failed.then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).not.toContain(temp.dir);
      // Sticky: later commits fail even once the disk is healthy again.
      fs.fault = null;
      await expect(runtime.sendInput('w', { kind: 'system', content: 'later' })).rejects.toMatchObject({
        code: 'store_unavailable',
      });
      expect((await runtime.transcript('w')).items.map((e) => e.content)).toEqual(['before']);
      expect((await runtime.readEvents({ limit: 100 })).items.length).toBeGreaterThan(0);
      await runtime.close();
    },
  );

  test('after an ENOSPC mid-append, reopening shows no half-written record', async () => {
    const { runtime, fs } = await runtimeWith();
    // The repair (cutting the partial bytes off) fails too, so the torn bytes stay until reopen.
    fs.fault = { call: 'write', file: 'journal.jsonl', code: 'ENOSPC', partial_bytes: 40 };
    fs.ftruncate = async () => {
      throw Object.assign(new Error('EIO'), { code: 'EIO' });
    };
    await expect(runtime.sendInput('w', { kind: 'system', content: 'lost' })).rejects.toMatchObject({
      code: 'store_unavailable',
    });
    expect(await readFile(journal(), 'utf8')).not.toMatch(/\n$/);
    await runtime.close();

    const reopened = await Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir }) });
    expect((await reopened.diagnostics()).map((d) => d.code)).toContain('store_torn_tail_repaired');
    expect((await reopened.transcript('w')).items.map((e) => e.content)).toEqual(['before']);
    expect((await reopened.sendInput('w', { kind: 'system', content: 'after' })).transcript_sequence).toBe(2);
    await reopened.close();
    for (const line of (await readFile(journal(), 'utf8')).split('\n').filter(Boolean)) {
      expect(() => JSON.parse(line)).not.toThrow();
    }
  });

  test('a journal on a full device (/dev/full) answers store_unavailable for commits; reads go on', async () => {
    const { runtime } = await runtimeWith();
    await runtime.close();
    await rm(journal());
    await symlink('/dev/full', journal());
    const store = createFsStore({ data_dir: temp.dir });
    const snapshot = await store.open({
      runtime_id: 'rt',
      generate_id: () => 'unused',
      now: new Date().toISOString(),
      max_diagnostics: 100,
      max_retained_events: 1000,
    });
    const event = {
      id: snapshot.last_event_id + 1,
      kind: 'runtime_started' as const,
      message: 'started',
      created_at: new Date().toISOString(),
    };
    await expect(store.commit([{ type: 'event', event }])).rejects.toMatchObject({
      code: 'store_unavailable',
      details: { errno: 'ENOSPC' },
    });
    expect((await store.readTranscript('w', 0, 10)).map((e) => e.content)).toEqual(['before']);
    expect(await store.readEvents({ after: 0, limit: 1000 })).toHaveLength(snapshot.last_event_id);
    await store.close();
  });
});
