import { readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isRuntimeError, Runtime, type StoreOpenRequest, type StoreRecord } from '@worker-runtime/core';
import { describe, expect, test, vi } from 'vitest';
import { type FsLike, nodeFs } from './fs-like.js';
import { createFsStore } from './fs-store.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();

function request(overrides: Partial<StoreOpenRequest> = {}): StoreOpenRequest {
  return {
    runtime_id: 'rt',
    generate_id: () => 'unused',
    now: new Date().toISOString(),
    max_diagnostics: 100,
    max_retained_events: 1000,
    ...overrides,
  };
}

/** The real file system, recording every path it fsyncs (relative to the runtime directory). */
function syncRecorder(): { fs: FsLike; synced: string[] } {
  const paths = new Map<number, string>();
  const synced: string[] = [];
  const base = () => join(temp.dir, 'runtimes', 'rt');
  const fs: FsLike = {
    ...nodeFs,
    async open(path, flags) {
      const fd = await nodeFs.open(path, flags);
      paths.set(fd, path);
      return fd;
    },
    async fsync(fd) {
      await nodeFs.fsync(fd);
      synced.push(relative(base(), paths.get(fd) ?? '?') || '.');
    },
  };
  return { fs, synced };
}

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isRuntimeError(error) ? error.code : 'not a RuntimeError';
  }
  return undefined;
}

const event = (id: number, worker_id?: string): StoreRecord => ({
  type: 'event',
  event: {
    id,
    kind: 'runtime_started',
    message: 'started',
    created_at: new Date().toISOString(),
    ...(worker_id ? { worker_ref: { runtime_id: 'rt', worker_id } } : {}),
  },
});

describe('commit checks what the store relies on', () => {
  test('refuses records with an unknown type, a bad worker id or a bad position, and stays usable', async () => {
    const store = createFsStore({ data_dir: temp.dir });
    await store.open(request());
    expect(await code(store.commit([{ type: 'nonsense' } as unknown as StoreRecord]))).toBe('invalid_request');
    expect(await code(store.commit([event(1, '../escape')]))).toBe('invalid_id');
    expect(await code(store.commit([event(1.5)]))).toBe('invalid_request');
    expect(await code(store.commit([event(0)]))).toBe('invalid_request');
    const cyclic: Record<string, unknown> = { id: 1, created_at: 'x' };
    cyclic.self = cyclic;
    expect(await code(store.commit([{ type: 'event', event: cyclic } as unknown as StoreRecord]))).toBe(
      'invalid_request',
    );
    await store.commit([event(1)]);
    expect((await store.readEvents({ after: 0, limit: 10 })).map((e) => e.id)).toEqual([1]);
    await store.close();
  });

  test('the journal holds a batch as it was when commit was called', async () => {
    const store = createFsStore({ data_dir: temp.dir });
    await store.open(request());
    const record = event(1);
    const committed = store.commit([record]);
    (record as { event: { message: string } }).event.message = 'changed after commit';
    await committed;
    const journal = await readFile(join(temp.dir, 'runtimes', 'rt', 'journal.jsonl'), 'utf8');
    expect(JSON.parse(journal.trim())).toMatchObject({ batch: 1, records: [{ event: { message: 'started' } }] });
    await store.close();
  });
});

describe('log lines', () => {
  test('a group mixing ASCII and other text writes every log line whole, read back before and after reopen', async () => {
    const open = () => Runtime.open({ store: createFsStore({ data_dir: temp.dir }), runtime_id: 'rt' });
    const runtime = await open();
    const workers = await Promise.all(
      ['a', 'b', 'c'].map((worker_id) =>
        runtime.createWorker({ worker_id, intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } }),
      ),
    );
    // Committed in one tick, so they share groups: some all ASCII, some not.
    const contents = ['plain ascii', 'héllo wörld — 😀 中文', 'ascii again'];
    await Promise.all(
      workers.map((worker, i) =>
        runtime.sendInput(worker.worker_id, { kind: 'system', content: contents[i] as string }),
      ),
    );
    const read = async (r: Runtime) => {
      const texts = await Promise.all(
        workers.map(async (w) => (await r.transcript(w.worker_id)).items.map((e) => e.content)),
      );
      const events = (await r.readEvents({ limit: 100 })).items;
      return { texts, events };
    };
    const before = await read(runtime);
    expect(before.texts).toEqual(contents.map((content) => [content]));
    await runtime.close();
    const reopened = await open();
    const after = await read(reopened);
    expect(after.texts).toEqual(before.texts);
    // Reopening appends its own lifecycle events after the ones already there.
    expect(after.events.slice(0, before.events.length)).toEqual(before.events);
    await reopened.close();
  });
});

describe('checkpoints', () => {
  test('fsync every log file written since the last checkpoint and every directory that gained entries', async () => {
    const { fs, synced } = syncRecorder();
    const runtime = await Runtime.open({ store: createFsStore({ data_dir: temp.dir, fs }), runtime_id: 'rt' });
    const worker = await runtime.createWorker({ intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    const ack = await runtime.sendInput(worker.worker_id, { kind: 'user', content: 'hello', idempotency_key: 'k1' });
    await runtime.getRun(worker.worker_id, ack.run_id as string, { wait_ms: 5000 });
    synced.length = 0;
    await runtime.close();
    const w = (name: string) => join('workers', worker.worker_id, name);
    expect(synced).toEqual(
      expect.arrayContaining([
        'events.jsonl',
        'events.idx',
        'workers',
        join('workers', worker.worker_id),
        w('transcript.jsonl'),
        w('transcript.idx'),
        w('event-ids.idx'),
        w('runs.jsonl'),
        w('idempotency.jsonl'),
        w('worker.json.tmp'),
        'checkpoint.json.tmp',
      ]),
    );
  });

  test('a checkpoint with nothing written since the last one fsyncs no log file again', async () => {
    const { fs, synced } = syncRecorder();
    const store = createFsStore({ data_dir: temp.dir, fs, checkpoint_bytes: 1 });
    await store.open(request());
    await store.commit([event(1)]);
    // The checkpoint the full journal asks for runs behind the commit; its last step fsyncs the journal.
    await vi.waitFor(() => expect(synced).toContain('journal.jsonl'));
    synced.length = 0;
    await store.close();
    expect(synced.filter((path) => path.endsWith('.jsonl') || path.endsWith('.idx'))).toEqual(['journal.jsonl']);
  });
});

describe('descriptor eviction', () => {
  test('many workers through a cache of two descriptors keep every log whole, before and after reopen', async () => {
    const open = () =>
      Runtime.open({ store: createFsStore({ data_dir: temp.dir, max_open_files: 2 }), runtime_id: 'rt' });
    let runtime = await open();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await runtime.createWorker({ intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } })).worker_id,
      );
    }
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        ids.map((id) => runtime.sendInput(id, { kind: 'system', content: `round ${round} for ${id}` })),
      );
    }
    const check = async () => {
      for (const id of ids) {
        const page = await runtime.transcript(id, { limit: 10 });
        expect(page.items.map((entry) => entry.content)).toEqual([0, 1, 2].map((r) => `round ${r} for ${id}`));
        const files = join(temp.dir, 'runtimes', 'rt', 'workers', id);
        expect((await stat(join(files, 'transcript.idx'))).size).toBe(3 * 16);
      }
    };
    await check();
    await runtime.close();
    runtime = await open();
    await check();
    await runtime.close();
  });
});
