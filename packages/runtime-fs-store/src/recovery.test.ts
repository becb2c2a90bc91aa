import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Diagnostic, Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();

const root = () => join(temp.dir, 'runtimes', 'rt');
const journal = () => join(root(), 'journal.jsonl');

/**
 * Writes a worker with three system entries and leaves the journal unfolded, as a crash would
 * (a huge checkpoint threshold, and the store is dropped without close()).
 */
async function crashAfterWrites(): Promise<void> {
  const runtime = await Runtime.open({
    runtime_id: 'rt',
    store: createFsStore({ data_dir: temp.dir, checkpoint_bytes: 1 << 30 }),
  });
  await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  for (const content of ['one', 'two', 'three']) await runtime.sendInput('w', { kind: 'system', content });
  // Simulate the process dying: the lock file stays, naming a pid that is gone.
  await writeFile(join(root(), 'LOCK'), `${JSON.stringify({ pid: 2 ** 22 + 12345, acquired_at: '' })}\n`);
}

async function reopen(): Promise<{ runtime: Runtime; diagnostics: Diagnostic[] }> {
  const runtime = await Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir }) });
  return { runtime, diagnostics: await runtime.diagnostics() };
}

async function contents(runtime: Runtime): Promise<string[]> {
  return (await runtime.transcript('w')).items.map((entry) => entry.content);
}

describe('recovery after a crash', () => {
  test('replays the journal: every committed entry is back and ids continue', async () => {
    await crashAfterWrites();
    const lastBefore = (await readFile(journal(), 'utf8')).trim().split('\n').length;
    expect(lastBefore).toBeGreaterThan(3);
    const { runtime, diagnostics } = await reopen();
    expect(await contents(runtime)).toEqual(['one', 'two', 'three']);
    expect(diagnostics.map((d) => d.code)).toContain('store_stale_lock_recovered');
    const ack = await runtime.sendInput('w', { kind: 'system', content: 'four' });
    expect(ack.transcript_sequence).toBe(4);
    const events = (await runtime.readEvents({ limit: 1000 })).items.map((event) => event.id);
    expect(events).toEqual(events.map((_, i) => i + 1));
    await runtime.close();
  });

  test('truncates a torn last journal line with a store_torn_tail_repaired warning', async () => {
    await crashAfterWrites();
    await appendFile(journal(), '{"batch":99,"records":[{"type":"transcript","ent');
    const { runtime, diagnostics } = await reopen();
    expect(await contents(runtime)).toEqual(['one', 'two', 'three']);
    const torn = diagnostics.find((d) => d.code === 'store_torn_tail_repaired');
    expect(torn?.severity).toBe('warning');
    expect(torn?.message).not.toContain(temp.dir);
    await runtime.close();
  });

  test('skips a corrupt journal record in the middle with store_corrupt_record and keeps the rest', async () => {
    await crashAfterWrites();
    const lines = (await readFile(journal(), 'utf8')).split('\n');
    const target = lines.findIndex((line) => line.includes('"content":"two"'));
    lines[target] = (lines[target] as string).replace('"records"', '"rec#rds"');
    await writeFile(journal(), lines.join('\n'));
    const { runtime, diagnostics } = await reopen();
    expect(diagnostics.map((d) => d.code)).toContain('store_corrupt_record');
    expect(await contents(runtime)).toEqual(['one', 'three']);
    // The lost sequence is never handed out again.
    expect((await runtime.sendInput('w', { kind: 'system', content: 'four' })).transcript_sequence).toBe(4);
    await runtime.close();
  });

  test('skips a corrupt transcript line in the middle of a log when it is read', async () => {
    const found: Diagnostic[] = [];
    const runtime = await Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir }) });
    await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    for (const content of ['one', 'two', 'three']) await runtime.sendInput('w', { kind: 'system', content });
    await runtime.close();
    const path = join(root(), 'workers', 'w', 'transcript.jsonl');
    const text = await readFile(path, 'utf8');
    // Same length, so the offset index still frames every line: bit rot, not a rewrite.
    await writeFile(path, text.replace('"content":"two"', '"content":"two'.padEnd(15, '\u0000')));
    const reopened = await Runtime.open({
      runtime_id: 'rt',
      store: createFsStore({ data_dir: temp.dir, on_diagnostic: (d) => found.push(d) }),
    });
    const before = (await reopened.summary()).last_event_id;
    expect(await contents(reopened)).toEqual(['one', 'three']);
    expect(found.map((d) => [d.code, d.severity])).toEqual([['store_corrupt_record', 'warning']]);
    // The Runtime records it too, as a diagnostic with its event.
    const events = await reopened.readEvents({ after: before, wait_ms: 5000 });
    expect(events.items.at(-1)).toMatchObject({ kind: 'diagnostic_recorded', data: { code: 'store_corrupt_record' } });
    expect((await reopened.diagnostics()).some((d) => d.code === 'store_corrupt_record')).toBe(true);
    await reopened.close();
  });

  test('ignores stray files and folders with a diagnostic', async () => {
    await crashAfterWrites();
    await writeFile(join(root(), 'notes.txt'), 'left here by hand');
    await mkdir(join(root(), 'workers', 'not-a-worker'));
    await writeFile(join(root(), 'workers', 'README'), 'stray');
    const { runtime, diagnostics } = await reopen();
    const stray = diagnostics.filter((d) => d.code === 'store_stray_entry');
    expect(stray).toHaveLength(3);
    expect((await runtime.listWorkers()).workers.map((w) => w.worker_id)).toEqual(['w']);
    expect(await contents(runtime)).toEqual(['one', 'two', 'three']);
    await runtime.close();
  });

  test('a run that was running comes back interrupted and a queued input resumes', async () => {
    const runtime = await Runtime.open({
      runtime_id: 'rt',
      store: createFsStore({ data_dir: temp.dir, checkpoint_bytes: 1 << 30 }),
      profiles: { slow: { engine: 'echo', delay_ms: 60_000 } },
      default_profile: 'slow',
    });
    await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    const running = await runtime.sendInput('w', { kind: 'user', content: 'first' });
    const queued = await runtime.sendInput('w', { kind: 'user', content: 'second', on_busy: 'enqueue' });
    await writeFile(join(root(), 'LOCK'), `${JSON.stringify({ pid: 2 ** 22 + 12345, acquired_at: '' })}\n`);
    const { runtime: reopened } = await reopen();
    expect((await reopened.getRun('w', running.run_id as string)).status).toBe('interrupted');
    const resumed = await reopened.getRun('w', queued.run_id as string, { wait_ms: 5000 });
    expect(resumed.status).toBe('completed');
    expect(await contents(reopened)).toEqual(['first', 'second', 'echo: second']);
    await reopened.close();
  });
});
