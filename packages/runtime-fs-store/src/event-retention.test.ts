import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();
const root = () => join(temp.dir, 'runtimes', 'rt');

const open = (max_retained_events?: number) =>
  Runtime.open({
    runtime_id: 'rt',
    store: createFsStore({ data_dir: temp.dir }),
    ...(max_retained_events !== undefined ? { retention: { max_retained_events } } : {}),
  });

async function fill(runtime: Runtime, inputs: number, from = 0): Promise<void> {
  for (let i = from; i < from + inputs; i++) await runtime.sendInput('w', { kind: 'system', content: `note ${i}` });
  // Log lines are written behind the acknowledgement; a read writes them first, so the files on
  // disk are what these tests inspect.
  await runtime.readEvents({ limit: 1 });
}

/** The event log files in the runtime directory. */
async function eventFiles(): Promise<string[]> {
  return (await readdir(root())).filter((name) => name.startsWith('events.')).sort();
}

/** The ids of the events in the (one) event data file on disk. */
async function idsOnDisk(): Promise<number[]> {
  const [data] = (await eventFiles()).filter((name) => name.endsWith('.jsonl'));
  const text = await readFile(join(root(), data as string), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { id: number }).id);
}

describe('retention.max_retained_events on the fs store', () => {
  test('the oldest events leave the disk; older cursors expire; after=0 reads from the oldest retained', async () => {
    const runtime = await open(10);
    await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    await fill(runtime, 40);
    const last = (await runtime.summary()).last_event_id;
    // One pair of files, named by its first id; the original events.jsonl is gone.
    const files = await eventFiles();
    expect(files).toHaveLength(2);
    expect(files).not.toContain('events.jsonl');
    const ids = await idsOnDisk();
    const oldest = ids[0] as number;
    expect(files).toEqual([`events.${oldest}.idx`, `events.${oldest}.jsonl`]);
    // At least the newest 10 and fewer than 20, dense, ending at the last id.
    expect(ids.length).toBeGreaterThanOrEqual(10);
    expect(ids.length).toBeLessThan(20);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => oldest + i));
    expect(ids.at(-1)).toBe(last);

    for (const query of [{ after: 1 }, { after: oldest - 2 }, { after: 1, worker_id: 'w' }]) {
      await expect(runtime.readEvents(query)).rejects.toMatchObject({
        code: 'cursor_expired',
        details: { oldest_available: oldest },
      });
    }
    expect((await runtime.readEvents({ after: oldest - 1, limit: 1 })).items[0]?.id).toBe(oldest);
    const fromStart = await runtime.readEvents({ after: 0, limit: 1000 });
    expect(fromStart.items.map((event) => event.id)).toEqual(ids);
    const workerEvents = await runtime.readEvents({ after: 0, worker_id: 'w', limit: 1000 });
    expect(workerEvents.items[0]?.id).toBeGreaterThanOrEqual(oldest);
    expect(workerEvents.items.at(-1)?.id).toBe(last);
    await runtime.close();
  });

  test('after a reopen ids stay dense and are never reused, and trimming goes on', async () => {
    const first = await open(10);
    await first.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    await fill(first, 30);
    const last = (await first.summary()).last_event_id;
    await first.close();

    const second = await open(10);
    // Reopening records events of its own; none reuses an id.
    expect((await second.summary()).last_event_id).toBeGreaterThanOrEqual(last);
    // Nothing was damaged or repaired.
    expect((await second.diagnostics()).filter((d) => d.code.startsWith('store_'))).toEqual([]);
    await fill(second, 1, 30);
    const newer = await second.readEvents({ after: last, limit: 1000 });
    expect(newer.items[0]?.id).toBe(last + 1);
    expect(newer.items.map((event) => event.id)).toEqual(newer.items.map((_, i) => last + 1 + i));
    await fill(second, 30, 31);
    const ids = await idsOnDisk();
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => (ids[0] as number) + i));
    expect(ids.at(-1)).toBe((await second.summary()).last_event_id);
    expect(ids.length).toBeLessThan(20);
    await second.close();
  });

  test('an untrimmed log of an older runtime opens and is trimmed once retention is set', async () => {
    const plain = await open();
    await plain.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    await fill(plain, 30);
    await plain.close();
    expect(await eventFiles()).toEqual(['events.idx', 'events.jsonl']);

    const trimmed = await open(10);
    await fill(trimmed, 1, 30);
    expect(await eventFiles()).not.toContain('events.jsonl');
    const ids = await idsOnDisk();
    expect(ids[0]).toBeGreaterThan(1);
    expect(ids.length).toBeGreaterThanOrEqual(10);
    expect(ids.length).toBeLessThan(20);
    expect(ids.at(-1)).toBe((await trimmed.summary()).last_event_id);
    await trimmed.close();
  });

  test('disk stays bounded: 6k system inputs with max_retained_events 300', async () => {
    const runtime = await open(300);
    await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    const sizes: number[] = [];
    for (let quarter = 0; quarter < 4; quarter++) {
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < 1500; i++) {
        batch.push(runtime.sendInput('w', { kind: 'system', content: `note ${quarter * 1500 + i}` }));
      }
      await Promise.all(batch);
      let bytes = 0;
      for (const name of await eventFiles()) bytes += (await stat(join(root(), name))).size;
      sizes.push(bytes);
    }
    expect((await runtime.summary()).last_event_id).toBeGreaterThan(6_000);
    // Each event is a short JSON line (< 400 bytes) plus a 16-byte index entry; at most 600 are kept.
    for (const size of sizes) expect(size).toBeLessThan(600 * (400 + 16));
    expect(sizes[3]).toBeLessThan(2 * (sizes[0] as number));
    const ids = await idsOnDisk();
    expect(ids.length).toBeGreaterThanOrEqual(300);
    expect(ids.length).toBeLessThan(600);
    await runtime.close();
  }, 120_000);
});
