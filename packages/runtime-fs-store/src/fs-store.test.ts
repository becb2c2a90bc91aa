import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRuntimeError, Runtime, type StoreOpenRequest } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { listFsRuntimes } from './runtime-dirs.js';
import { faultFs } from './test-support/fault-fs.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();

function request(overrides: Partial<StoreOpenRequest> = {}): StoreOpenRequest {
  let n = 0;
  return {
    generate_id: () => `generated-${++n}`,
    now: new Date().toISOString(),
    max_diagnostics: 100,
    max_retained_events: 1000,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; details?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('layout', () => {
  test('writes human-readable JSON and JSONL under runtimes/<runtime_id>/', async () => {
    const runtime = await Runtime.open({ runtime_id: 'rt-1', store: createFsStore({ data_dir: temp.dir }) });
    const worker = await runtime.createWorker({
      worker_id: 'w-1',
      intent: { kind: 'assistant' },
      profile: { kind: 'runtime_default' },
    });
    await runtime.sendInput(worker.worker_id, { kind: 'system', content: 'hello' });
    await runtime.close();
    const root = join(temp.dir, 'runtimes', 'rt-1');
    expect((await readdir(root)).sort()).toEqual(
      [
        'checkpoint.json',
        'events.idx',
        'events.jsonl',
        'journal.jsonl',
        'reserved-ids.json',
        'runtime.json',
        'workers',
      ].sort(),
    );
    expect(JSON.parse(await readFile(join(root, 'runtime.json'), 'utf8'))).toMatchObject({ runtime_id: 'rt-1' });
    const transcript = (await readFile(join(root, 'workers', 'w-1', 'transcript.jsonl'), 'utf8')).trim().split('\n');
    expect(transcript.map((line) => JSON.parse(line).content)).toEqual(['hello']);
    const events = (await readFile(join(root, 'events.jsonl'), 'utf8')).trim().split('\n');
    expect(events.map((line) => JSON.parse(line).id)).toEqual(events.map((_, i) => i + 1));
    // A clean close folds the journal into the files.
    expect(await readFile(join(root, 'journal.jsonl'), 'utf8')).toBe('');
  });
});

describe('choosing the runtime', () => {
  test('creates a runtime when the data dir is empty and reopens it next time', async () => {
    const first = createFsStore({ data_dir: temp.dir });
    const created = await first.open(request());
    await first.close();
    const second = createFsStore({ data_dir: temp.dir });
    const reopened = await second.open(request({ generate_id: () => 'never-used' }));
    await second.close();
    expect(reopened.runtime.runtime_id).toBe(created.runtime.runtime_id);
    expect(await listFsRuntimes(temp.dir)).toEqual([created.runtime.runtime_id]);
  });

  test('refuses to guess between several runtimes and lists them', async () => {
    for (const runtime_id of ['alpha', 'beta']) {
      const store = createFsStore({ data_dir: temp.dir });
      await store.open(request({ runtime_id }));
      await store.close();
    }
    const error = await rejection(createFsStore({ data_dir: temp.dir }).open(request()));
    expect(error.code).toBe('invalid_request');
    expect(error.details).toEqual({ runtime_ids: ['alpha', 'beta'] });
    // Neutral wording: the CLI says --runtime-id, the library runtime_id.
    expect(error.message).toBe(
      'the data directory holds 2 runtimes (alpha, beta); choose one of them by its runtime id',
    );
  });

  test('never adopts a directory that holds no runtime, and reports it as a stray', async () => {
    await mkdir(join(temp.dir, 'runtimes', 'garbage'), { recursive: true });
    await mkdir(join(temp.dir, 'runtimes', 'half-made'), { recursive: true });
    await writeFile(join(temp.dir, 'runtimes', 'half-made', 'runtime.json'), '{"runtime_id":"someone-else"}');
    expect(await listFsRuntimes(temp.dir)).toEqual([]);
    const store = createFsStore({ data_dir: temp.dir });
    const opened = await store.open(request());
    await store.close();
    expect(opened.runtime.runtime_id).toBe('generated-1');
    expect(opened.recovery_diagnostics.filter((d) => d.code === 'store_stray_entry').map((d) => d.message)).toEqual([
      'runtimes/garbage holds no runtime (no valid runtime.json or journal); it was ignored',
      'runtimes/half-made holds no runtime (no valid runtime.json or journal); it was ignored',
    ]);
    expect(await readdir(join(temp.dir, 'runtimes', 'garbage'))).toEqual([]);
    // The real runtime is the only one, so the next open reopens it rather than refusing to guess.
    expect(await listFsRuntimes(temp.dir)).toEqual(['generated-1']);
    const again = createFsStore({ data_dir: temp.dir });
    expect((await again.open(request({ generate_id: () => 'never-used' }))).runtime.runtime_id).toBe('generated-1');
    await again.close();
  });

  test('a runtime whose runtime.json was damaged still counts when its journal or checkpoint shows one', async () => {
    const first = createFsStore({ data_dir: temp.dir });
    await first.open(request({ runtime_id: 'kept' }));
    await first.close();
    await writeFile(join(temp.dir, 'runtimes', 'kept', 'runtime.json'), 'not json');
    expect(await listFsRuntimes(temp.dir)).toEqual(['kept']);
  });

  test('rejects a runtime id that is not a safe path component, without naming a path', async () => {
    const error = await rejection(createFsStore({ data_dir: temp.dir }).open(request({ runtime_id: '../escape' })));
    expect(error.code).toBe('invalid_id');
    expect(error.message).not.toContain(temp.dir);
    expect(await listFsRuntimes(temp.dir)).toEqual([]);
  });
});

describe('creating the data directory', () => {
  test('creates a data dir whose parents are missing', async () => {
    const data_dir = join(temp.dir, 'a', 'b', 'c');
    const store = createFsStore({ data_dir });
    await store.open(request({ runtime_id: 'rt' }));
    await store.close();
    expect((await stat(join(data_dir, 'runtimes', 'rt', 'workers'))).isDirectory()).toBe(true);
  });

  test('a data dir under a file answers store_unavailable without naming a path', async () => {
    await writeFile(join(temp.dir, 'file'), '');
    const error = await rejection(createFsStore({ data_dir: join(temp.dir, 'file', 'data') }).open(request()));
    expect(error.code).toBe('store_unavailable');
    expect(error.message).not.toContain(temp.dir);
  });

  // Node 20's recursive mkdir loops forever on such a path instead of failing.
  test.skipIf(!existsSync('/proc'))('a data dir that cannot be created (/proc/nope) fails at once', async () => {
    const error = await rejection(createFsStore({ data_dir: '/proc/nope' }).open(request({ runtime_id: 'rt' })));
    expect(error.code).toBe('store_unavailable');
    expect(error.message).not.toContain('/proc');
  });
});

describe('group commit', () => {
  test('concurrent commits share fsyncs and all resolve, in call order', async () => {
    const fs = faultFs();
    const runtime = await Runtime.open({ store: createFsStore({ data_dir: temp.dir, fs }) });
    const ids: string[] = [];
    for (let i = 0; i < 16; i++) {
      ids.push(
        (await runtime.createWorker({ intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } })).worker_id,
      );
    }
    const before = fs.counts.fdatasync;
    const acks = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        runtime.sendInput(ids[i % ids.length] as string, { kind: 'system', content: `message ${i}` }),
      ),
    );
    const journalSyncs = fs.counts.fdatasync - before;
    expect(journalSyncs).toBeGreaterThan(0);
    expect(journalSyncs).toBeLessThan(16);
    expect(new Set(acks.map((ack) => ack.event_id)).size).toBe(64);
    await runtime.close();
  });

  test('a commit resolves only after the journal was fsynced', async () => {
    const fs = faultFs();
    const store = createFsStore({ data_dir: temp.dir, fs });
    await store.open(request());
    let synced = 0;
    const original = fs.fdatasync;
    fs.fdatasync = async (fd) => {
      await original(fd);
      synced++;
    };
    await store.commit([
      {
        type: 'event',
        event: { id: 1, kind: 'runtime_started', message: 'started', created_at: new Date().toISOString() },
      },
    ]);
    expect(synced).toBe(1);
    await store.close();
  });
});

describe('errors', () => {
  test('a record naming an unknown worker is refused without breaking the store', async () => {
    const store = createFsStore({ data_dir: temp.dir });
    await store.open(request());
    const error = await rejection(
      store.commit([
        {
          type: 'run',
          run: {
            worker_id: 'ghost',
            input: null,
            run: {
              run_id: 'r1',
              status: 'queued',
              input_sequence: null,
              queued_at: '',
              started_at: null,
              ended_at: null,
              error: null,
              idempotency_key: null,
              output_entries: 0,
            },
          },
        },
      ]),
    );
    expect(isRuntimeError(error) && error.code).toBe('worker_not_found');
    await store.commit([]);
    await store.close();
  });

  test('reads and commits on a closed store answer store_unavailable', async () => {
    const store = createFsStore({ data_dir: temp.dir });
    await store.open(request());
    await store.close();
    await store.close();
    expect((await rejection(store.commit([]))).code).toBe('store_unavailable');
    expect((await rejection(store.readEvents({ after: 0, limit: 1 }))).code).toBe('store_unavailable');
  });
});
