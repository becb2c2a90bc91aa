import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { nodeFs } from './fs-like.js';
import { createFsStore } from './fs-store.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();
const transcriptFile = () => join(temp.dir, 'runtimes', 'rt', 'workers', 'w', 'transcript.jsonl');

/** The transcript lines on disk (none when the file is not there yet). */
async function linesOnDisk(): Promise<string[]> {
  const text = await readFile(transcriptFile(), 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line !== '');
}

async function openWith(fs = nodeFs): Promise<Runtime> {
  const runtime = await Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir, fs }) });
  await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  return runtime;
}

describe('log files written behind the acknowledgement', () => {
  test('acknowledged entries are read back before their log lines were written, which the read then writes', async () => {
    const runtime = await openWith();
    for (let i = 0; i < 20; i++) await runtime.sendInput('w', { kind: 'system', content: `note ${i}` });
    // Acknowledged means journaled and fsynced; the transcript log is still behind.
    expect((await linesOnDisk()).length).toBeLessThan(20);
    const page = await runtime.transcript('w', { limit: 100 });
    expect(page.items.map((entry) => entry.content)).toEqual(Array.from({ length: 20 }, (_, i) => `note ${i}`));
    expect(await linesOnDisk()).toHaveLength(20);
    await runtime.close();
  });

  test('appends made while a write of the logs is in flight are read back whole, in order', async () => {
    // Log writes (not the journal's) are held until released, so commits go on meanwhile.
    let release: () => void = () => undefined;
    let held: Promise<void> | null = null;
    const journals = new Set<number>();
    const fs = {
      ...nodeFs,
      async open(path: string, flags: string | number) {
        const fd = await nodeFs.open(path, flags);
        if (basename(path) === 'journal.jsonl') journals.add(fd);
        else journals.delete(fd);
        return fd;
      },
      async write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number) {
        if (held && !journals.has(fd)) await held;
        return nodeFs.write(fd, buffer, offset, length, position);
      },
    };
    const runtime = await openWith(fs);
    await runtime.sendInput('w', { kind: 'system', content: 'first' });
    held = new Promise((resolve) => {
      release = resolve;
    });
    // This read starts a flush that hangs on the held writes; the next commit is acknowledged
    // meanwhile and its lines wait for the next flush, which the second read asks for.
    const firstRead = runtime.transcript('w');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await runtime.sendInput('w', { kind: 'system', content: 'second' });
    const bothRead = runtime.transcript('w');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await linesOnDisk()).toEqual([]);
    held = null;
    release();
    expect((await firstRead).items.map((entry) => entry.content)).toEqual(['first']);
    expect((await bothRead).items.map((entry) => entry.content)).toEqual(['first', 'second']);
    await runtime.close();
    expect((await linesOnDisk()).map((line) => (JSON.parse(line) as { content: string }).content)).toEqual([
      'first',
      'second',
    ]);
  });

  test('a reopen after the process died with unwritten log lines replays them from the journal', async () => {
    const runtime = await openWith();
    for (let i = 0; i < 5; i++) await runtime.sendInput('w', { kind: 'system', content: `note ${i}` });
    expect((await linesOnDisk()).length).toBeLessThan(5);
    // The process "dies": the store is never closed; a second store takes over the stale lock.
    await nodeFs.unlink(join(temp.dir, 'runtimes', 'rt', 'LOCK'));
    const reopened = await Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: temp.dir }) });
    const page = await reopened.transcript('w', { limit: 100 });
    expect(page.items.map((entry) => entry.content)).toEqual(Array.from({ length: 5 }, (_, i) => `note ${i}`));
    await reopened.close();
  });
});
