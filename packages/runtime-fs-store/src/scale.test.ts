import { mkdir, open as openFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime, type StoreOpenRequest } from '@worker-runtime/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FORMAT, type WorkerFile } from './file-schemas.js';
import { createFsStore } from './fs-store.js';
import { indexEntry } from './offset-index.js';
import { faultFs } from './test-support/fault-fs.js';
import { tempDir } from './test-support/temp-dir.js';

const ENTRIES = 1_000_000;
const created_at = '2025-01-01T00:00:00.000Z';
let dir: string;
let cleanup: () => Promise<void>;

/** Writes a runtime whose worker `w` has ENTRIES transcript entries, directly in the store's format. */
async function writeLargeRuntime(): Promise<void> {
  const root = join(dir, 'runtimes', 'rt');
  await mkdir(join(root, 'workers', 'w'), { recursive: true });
  await writeFile(
    join(root, 'runtime.json'),
    JSON.stringify({ format: FORMAT, runtime_id: 'rt', display_name: null, created_at }),
  );
  const data = await openFile(join(root, 'workers', 'w', 'transcript.jsonl'), 'w');
  const index = await openFile(join(root, 'workers', 'w', 'transcript.idx'), 'w');
  let bytes = 0;
  const prefix = '{"sequence":';
  const middle = ',"worker_ref":{"runtime_id":"rt","worker_id":"w"},"role":"user","content":"message ';
  const suffix = `","run_id":null,"event_id":0,"created_at":"${created_at}"}\n`;
  for (let start = 1; start <= ENTRIES; start += 100_000) {
    let lines = '';
    let offsets = '';
    for (let sequence = start; sequence < start + 100_000; sequence++) {
      const line = prefix + sequence + middle + sequence + suffix;
      lines += line;
      bytes += line.length;
      offsets += indexEntry(bytes);
    }
    await data.write(lines);
    await index.write(offsets);
  }
  await data.close();
  await index.close();
  const worker: WorkerFile = {
    format: FORMAT,
    batch: 0,
    ordinal: 0,
    worker: {
      worker_id: 'w',
      display_name: null,
      intent: { kind: 'assistant' },
      profile: { kind: 'runtime_default' },
      config_bundle: null,
      requested_capabilities: [],
      workspace_refs: [],
      mount_refs: [],
      metadata: {},
      created_at,
      status: 'idle',
      stopped_event_id: null,
    },
    transcript: { count: ENTRIES, bytes },
    event_ids: 0,
    runs_bytes: 0,
    idempotency_bytes: 0,
    last_event_id: 0,
    updated_at: created_at,
    last_run: null,
    next_run_ordinal: 0,
    unfinished_runs: [],
  };
  await writeFile(join(root, 'workers', 'w', 'worker.json'), JSON.stringify(worker));
}

const request: StoreOpenRequest = {
  runtime_id: 'rt',
  generate_id: () => 'unused',
  now: created_at,
  max_diagnostics: 100,
  max_retained_events: 1000,
};

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await writeLargeRuntime();
});
afterAll(async () => {
  await cleanup();
});

describe('scale', () => {
  test('opening a worker with a 1M-entry transcript reads only small files', async () => {
    const fs = faultFs();
    const store = createFsStore({ data_dir: dir, fs });
    const snapshot = await store.open(request);
    expect(snapshot.workers[0]?.transcript_len).toBe(ENTRIES);
    expect(fs.counts.bytes_read).toBeLessThan(16 * 1024);
    await store.close();
  });

  test('a page deep inside a 1M-entry transcript reads only that page from disk', async () => {
    const fs = faultFs();
    const store = createFsStore({ data_dir: dir, fs });
    await store.open(request);
    for (const start of [0, 500_000, ENTRIES - 10]) {
      const before = fs.counts.bytes_read;
      const page = await store.readTranscript('w', start, 10);
      expect(page.map((entry) => entry.sequence)).toEqual(Array.from({ length: 10 }, (_, i) => start + i + 1));
      expect(page[0]?.content).toBe(`message ${start + 1}`);
      // 10 entries of ~160 bytes and 11 index entries: a couple of KiB, not the 160 MB file.
      expect(fs.counts.bytes_read - before).toBeLessThan(4 * 1024);
    }
    await store.close();
  });

  test('a Runtime appends after the last entry and tails the transcript', async () => {
    const runtime = await Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: dir }) });
    const ack = await runtime.sendInput('w', { kind: 'system', content: 'one more' });
    expect(ack.transcript_sequence).toBe(ENTRIES + 1);
    const tail = await runtime.transcript('w', { tail: 2 });
    expect(tail.items.map((entry) => entry.content)).toEqual([`message ${ENTRIES}`, 'one more']);
    await runtime.close();
  });
});
