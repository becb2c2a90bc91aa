import { copyFile, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Diagnostic, Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { useTempDir } from './test-support/temp-dir.js';

// The damage matrix (damage-matrix.test.ts) for the files of a trimmed event log
// (`events.<first-id>.jsonl` / `.idx`), and the states an interrupted trim can leave behind.

const temp = useTempDir();
const root = () => join(temp.dir, 'runtimes', 'rt');

const open = (options: { retained?: number; on_diagnostic?: (d: Diagnostic) => void; checkpoint_bytes?: number }) =>
  Runtime.open({
    runtime_id: 'rt',
    store: createFsStore({
      data_dir: temp.dir,
      ...(options.on_diagnostic ? { on_diagnostic: options.on_diagnostic } : {}),
      ...(options.checkpoint_bytes ? { checkpoint_bytes: options.checkpoint_bytes } : {}),
    }),
    ...(options.retained !== undefined ? { retention: { max_retained_events: options.retained } } : {}),
  });

const eventFiles = async (): Promise<string[]> =>
  (await readdir(root())).filter((name) => name.startsWith('events.')).sort();

const contents = async (runtime: Runtime): Promise<string[]> =>
  (await runtime.transcript('w', { limit: 1000 })).items.map((entry) => entry.content);

const NOTES = Array.from({ length: 30 }, (_, i) => `note ${i}`);

/** A trimmed log, checkpointed, then one more input only in the journal (the process then "dies"). */
async function seed(): Promise<number> {
  const runtime = await open({ retained: 10 });
  await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  for (const content of NOTES) await runtime.sendInput('w', { kind: 'system', content });
  await runtime.close();
  const crashing = await open({ retained: 10, checkpoint_bytes: 1 << 30 });
  await crashing.sendInput('w', { kind: 'system', content: 'journal' });
  const last = (await crashing.summary()).last_event_id;
  await writeFile(join(root(), 'LOCK'), `${JSON.stringify({ pid: 2 ** 22 + 12345, acquired_at: '' })}\n`);
  return last;
}

const DAMAGES = {
  torn: async (path: string) => truncate(path, Math.max(0, (await readFile(path)).length - 7)),
  flipped: async (path: string) => {
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)] = 0;
    await writeFile(path, bytes);
  },
  deleted: (path: string) => rm(path),
  garbage: (path: string) => writeFile(path, 'this is not what was here\n\u0007\u0008 garbage'),
} as const;

describe('damage matrix of a trimmed event log', () => {
  for (const kind of ['jsonl', 'idx'] as const) {
    for (const [damage, apply] of Object.entries(DAMAGES)) {
      test(`events.<first-id>.${kind} ${damage}`, async () => {
        const last = await seed();
        const [name] = (await eventFiles()).filter((file) => file.endsWith(`.${kind}`));
        expect(name).toMatch(/^events\.[1-9][0-9]*\./);
        await apply(join(root(), name as string));
        const seen: Diagnostic[] = [];
        const runtime = await open({ retained: 10, on_diagnostic: (d) => seen.push(d) });

        // The transcript lives elsewhere: nothing of it is lost.
        expect(await contents(runtime)).toEqual([...NOTES, 'journal']);
        const events = (await runtime.readEvents({ limit: 1000 })).items.map((event) => event.id);
        expect(events).toEqual([...new Set(events)].sort((a, b) => a - b));
        const diagnostics = [...seen, ...(await runtime.diagnostics())].filter(
          (d) => d.code.startsWith('store_') && d.code !== 'store_stale_lock_recovered',
        );
        expect(diagnostics.length).toBeGreaterThan(0);
        for (const d of diagnostics) expect(d.message).not.toContain(temp.dir);

        // New events get fresh ids and survive a restart.
        const after = await runtime.sendInput('w', { kind: 'system', content: 'after' });
        expect(after.event_id).toBeGreaterThan(Math.max(last, ...events));
        await runtime.close();
        const reopened = await open({ retained: 10 });
        expect((await contents(reopened)).at(-1)).toBe('after');
        const tail = await reopened.readEvents({ after: after.event_id - 1, limit: 1 });
        expect(tail.items[0]?.id).toBe(after.event_id);
        await reopened.close();
      });
    }
  }
});

describe('an interrupted trim', () => {
  test('a new index without its data (killed before the data was renamed): the old log is kept whole', async () => {
    const runtime = await open({});
    await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    for (const content of NOTES) await runtime.sendInput('w', { kind: 'system', content });
    const last = (await runtime.summary()).last_event_id;
    await runtime.close();
    await writeFile(join(root(), 'events.21.idx'), '000000000000100\n');
    await writeFile(join(root(), 'events.21.jsonl.tmp'), '{"id":21');

    const reopened = await open({});
    expect(await eventFiles()).toEqual(['events.idx', 'events.jsonl']);
    const ids = (await reopened.readEvents({ limit: 1000 })).items.map((event) => event.id);
    expect(ids.slice(0, last)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    await reopened.close();
  });

  test('the new pair in place and the old one still there (killed before removing it): the new log wins', async () => {
    const runtime = await open({ retained: 10 });
    await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    for (const content of NOTES.slice(0, 5)) await runtime.sendInput('w', { kind: 'system', content });
    await runtime.close();
    // The untrimmed pair, as a trim would find it.
    const saved = join(temp.dir, 'saved');
    await copyFile(join(root(), 'events.jsonl'), `${saved}.jsonl`);
    await copyFile(join(root(), 'events.idx'), `${saved}.idx`);
    const trimming = await open({ retained: 10 });
    for (const content of NOTES.slice(5)) await trimming.sendInput('w', { kind: 'system', content });
    const last = (await trimming.summary()).last_event_id;
    await trimming.close();
    const trimmed = await eventFiles();
    expect(trimmed).not.toContain('events.jsonl');
    await copyFile(`${saved}.jsonl`, join(root(), 'events.jsonl'));
    await copyFile(`${saved}.idx`, join(root(), 'events.idx'));

    const reopened = await open({ retained: 10 });
    expect(await eventFiles()).toEqual(trimmed);
    const ids = (await reopened.readEvents({ limit: 1000 })).items.map((event) => event.id);
    expect(ids[0]).toBeGreaterThan(1);
    expect(ids.at(-1)).toBeGreaterThanOrEqual(last);
    expect(ids).toEqual(ids.map((_, i) => (ids[0] as number) + i));
    expect(await contents(reopened)).toEqual(NOTES);
    await reopened.close();
  });
});
