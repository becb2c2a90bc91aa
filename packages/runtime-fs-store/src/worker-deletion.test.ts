import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();
const create = { intent: { kind: 'assistant' as const }, profile: { kind: 'runtime_default' as const } };

/** Every file under `dir`, with its content. */
async function filesUnder(dir: string): Promise<{ path: string; text: string }[]> {
  const found: { path: string; text: string }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(path)));
    else found.push({ path, text: await readFile(path, 'utf8') });
  }
  return found;
}

describe('deleting a worker', () => {
  test('removes its directory; no file keeps its data; the id stays reserved after a restart', async () => {
    const runtimeDir = join(temp.dir, 'runtimes', 'rt');
    const open = () => Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir }) });
    const runtime = await open();
    await runtime.createWorker({ ...create, worker_id: 'doomed' });
    await runtime.createWorker({ ...create, worker_id: 'kept' });
    await runtime.sendInput('doomed', { kind: 'system', content: 'top-secret-note', idempotency_key: 'k' });
    const ack = await runtime.sendInput('doomed', { kind: 'user', content: 'top-secret-question' });
    await runtime.getRun('doomed', ack.run_id as string, { wait_ms: 5000 });
    await runtime.sendInput('kept', { kind: 'system', content: 'kept-note' });
    // Log lines are written behind the acknowledgement; a read writes them first.
    await runtime.transcript('doomed');
    expect(existsSync(join(runtimeDir, 'workers', 'doomed', 'transcript.jsonl'))).toBe(true);

    const deleted = await runtime.deleteWorker('doomed', { force: true });
    expect(deleted.status).toBe('deleted');
    expect(existsSync(join(runtimeDir, 'workers', 'doomed'))).toBe(false);
    expect(await readdir(join(runtimeDir, 'workers'))).toEqual(['kept']);
    // Not in the journal either (a delete checkpoints), nor in any index or snapshot.
    for (const { text } of await filesUnder(runtimeDir)) expect(text).not.toContain('top-secret');
    await runtime.close();

    const checkpoint = JSON.parse(await readFile(join(runtimeDir, 'checkpoint.json'), 'utf8'));
    expect(checkpoint.deleted_workers).toEqual(['doomed']);
    const again = await open();
    await expect(again.getWorker('doomed')).rejects.toMatchObject({ code: 'worker_not_found' });
    await expect(again.createWorker({ ...create, worker_id: 'doomed' })).rejects.toMatchObject({
      code: 'duplicate_worker',
    });
    expect((await again.transcript('kept')).items.map((e) => e.content)).toEqual(['kept-note']);
    const events = (await again.readEvents({ after: deleted.event_id - 1, limit: 1 })).items;
    expect(events[0]).toMatchObject({ kind: 'worker_deleted', worker_ref: { worker_id: 'doomed' } });
    await again.close();
  });

  test('a directory left by an interrupted delete is removed at open, not loaded or rebuilt', async () => {
    const runtimeDir = join(temp.dir, 'runtimes', 'rt');
    const open = () => Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir }) });
    const runtime = await open();
    await runtime.createWorker({ ...create, worker_id: 'w' });
    await runtime.sendInput('w', { kind: 'system', content: 'note' });
    await runtime.transcript('w');
    const copy = await filesUnder(join(runtimeDir, 'workers', 'w'));
    expect(copy.some((file) => file.path.endsWith('transcript.jsonl'))).toBe(true);
    await runtime.deleteWorker('w', { force: true });
    await runtime.close();
    // What a crash in the middle of the removal leaves: some of the worker's files (no worker.json).
    await mkdir(join(runtimeDir, 'workers', 'w'));
    for (const file of copy.filter((f) => !f.path.endsWith('worker.json'))) await writeFile(file.path, file.text);
    const again = await open();
    expect(existsSync(join(runtimeDir, 'workers', 'w'))).toBe(false);
    await expect(again.getWorker('w')).rejects.toMatchObject({ code: 'worker_not_found' });
    expect((await again.diagnostics()).some((d) => d.code === 'store_worker_rebuilt')).toBe(false);
    await again.close();
  });
});
