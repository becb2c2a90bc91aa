import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Diagnostic, type InputAck, isRuntimeError, Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { useTempDir } from './test-support/temp-dir.js';

// Every file kind of the layout × every kind of damage, over real files: reopen works, nothing
// stored in another file is lost, the loss is reported (naming the worker, never a path), no id
// is reused, and a write made after the damage survives the next restart.

const temp = useTempDir();
const root = () => join(temp.dir, 'runtimes', 'rt');

const FILES = [
  'runtime.json',
  'checkpoint.json',
  'journal.jsonl',
  'events.jsonl',
  'events.idx',
  'workers/w/worker.json',
  'workers/w/history.jsonl',
  'workers/w/transcript.jsonl',
  'workers/w/transcript.idx',
  'workers/w/event-ids.idx',
  'workers/w/runs.jsonl',
  'workers/w/idempotency.jsonl',
] as const;
type FileKind = (typeof FILES)[number];

const DAMAGES = {
  async torn(path: string) {
    const size = (await readFile(path)).length;
    await truncate(path, Math.max(0, size - 7));
  },
  async flipped(path: string) {
    const bytes = await readFile(path);
    // A NUL is never valid in these text files, so the flip is always detectable.
    bytes[Math.floor(bytes.length / 2)] = 0;
    await writeFile(path, bytes);
  },
  async deleted(path: string) {
    await rm(path);
  },
  async garbage(path: string) {
    await writeFile(path, 'this is not what was here\n\u0007\u0008 garbage');
  },
} as const;

const W_BEFORE = ['a1', 'a2', 'u1', 'echo: u1', 'a3'];
const W_JOURNAL = ['j1'];
const O_BEFORE = ['o1', 'o2'];
const O_JOURNAL = ['oj'];

interface Seeded {
  run_id: string;
  k1: InputAck;
  last_event_id: number;
}

const open = (on_diagnostic?: (d: Diagnostic) => void, checkpoint_bytes?: number) =>
  Runtime.open({
    runtime_id: 'rt',
    display_name: 'damage',
    store: createFsStore({
      data_dir: temp.dir,
      ...(on_diagnostic ? { on_diagnostic } : {}),
      ...(checkpoint_bytes ? { checkpoint_bytes } : {}),
    }),
  });

/** Two workers, a checkpointed part and a part only in the journal (the process then "dies"). */
async function seed(): Promise<Seeded> {
  const runtime = await open();
  for (const worker_id of ['w', 'other']) {
    await runtime.createWorker({ worker_id, intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  }
  const k1 = await runtime.sendInput('w', { kind: 'system', content: 'a1', idempotency_key: 'k1' });
  await runtime.sendInput('w', { kind: 'system', content: 'a2', idempotency_key: 'k2' });
  const user = await runtime.sendInput('w', { kind: 'user', content: 'u1' });
  await runtime.getRun('w', user.run_id as string, { wait_ms: 10_000 });
  await runtime.sendInput('w', { kind: 'system', content: 'a3', idempotency_key: 'k3' });
  for (const content of O_BEFORE) await runtime.sendInput('other', { kind: 'system', content });
  await runtime.close();

  const crashing = await open(undefined, 1 << 30);
  await crashing.sendInput('w', { kind: 'system', content: 'j1', idempotency_key: 'kj1' });
  await crashing.sendInput('other', { kind: 'system', content: 'oj' });
  const last_event_id = (await crashing.summary()).last_event_id;
  // The process dies: the store is never closed, the lock names a pid that is gone.
  await writeFile(join(root(), 'LOCK'), `${JSON.stringify({ pid: 2 ** 22 + 12345, acquired_at: '' })}\n`);
  return { run_id: user.run_id as string, k1, last_event_id };
}

const contents = async (runtime: Runtime, worker: string): Promise<string[]> =>
  (await runtime.transcript(worker, { limit: 1000 })).items.map((entry) => entry.content);

/** What a file's damage may cost: entries of `w` and `other` that were stored only in it. */
function mayLose(file: FileKind): { w: string[]; other: string[]; events: boolean } {
  if (file === 'journal.jsonl') return { w: W_JOURNAL, other: O_JOURNAL, events: true };
  if (file === 'workers/w/transcript.jsonl') return { w: W_BEFORE, other: [], events: false };
  return { w: [], other: [], events: file === 'events.jsonl' };
}

/** `actual` is `expected` with at most the `lost` items missing, in order. */
function expectSubset(actual: string[], expected: string[], lost: string[]): void {
  expect(actual).toEqual(expected.filter((item) => actual.includes(item) || !lost.includes(item)));
}

describe('damage matrix', () => {
  for (const file of FILES) {
    for (const [damage, apply] of Object.entries(DAMAGES)) {
      test(`${file} ${damage}`, async () => {
        const seeded = await seed();
        await apply(join(root(), file));
        const seen: Diagnostic[] = [];
        const runtime = await open((d) => seen.push(d));
        const lose = mayLose(file);

        // Everything stored in another file is readable.
        expectSubset(await contents(runtime, 'w'), [...W_BEFORE, ...W_JOURNAL], lose.w);
        expectSubset(await contents(runtime, 'other'), [...O_BEFORE, ...O_JOURNAL], lose.other);
        expect((await runtime.getRun('w', seeded.run_id)).status).toBe('completed');
        await runtime.listRuns('w');
        const events = (await runtime.readEvents({ limit: 1000 })).items.map((event) => event.id);
        expect(events).toEqual([...new Set(events)].sort((a, b) => a - b));
        if (!lose.events)
          expect(events.slice(0, seeded.last_event_id)).toEqual(
            events.map((_, i) => i + 1).slice(0, seeded.last_event_id),
          );
        const own = (await runtime.readEvents({ worker_id: 'w', limit: 1000 })).items;
        expect(own.every((event) => event.worker_ref?.worker_id === 'w')).toBe(true);
        if (!lose.events) expect(own.length).toBeGreaterThan(5);

        // A replayed key never runs again: the original ack, or a typed refusal.
        const before = (await runtime.transcript('w')).total_items;
        try {
          const replay = await runtime.sendInput('w', { kind: 'system', content: 'a1', idempotency_key: 'k1' });
          expect(replay).toMatchObject({ replayed: true, transcript_sequence: seeded.k1.transcript_sequence });
        } catch (error) {
          expect(isRuntimeError(error) && ['idempotency_conflict', 'worker_stopped'].includes(error.code)).toBe(true);
        }
        expect((await runtime.transcript('w')).total_items).toBe(before);

        // The loss was reported, naming what was damaged and never a path.
        const diagnostics = [...seen, ...(await runtime.diagnostics())].filter((d) => d.code.startsWith('store_'));
        const damageCodes = diagnostics.filter((d) => d.code !== 'store_stale_lock_recovered');
        // A flipped byte in history.jsonl costs nothing while worker.json is whole; it is only read
        // (and reported) when worker.json must be rebuilt.
        if (!(file === 'workers/w/history.jsonl' && damage === 'flipped')) {
          expect(damageCodes.length).toBeGreaterThan(0);
          if (file.startsWith('workers/w/')) expect(damageCodes.some((d) => d.message.includes('worker w'))).toBe(true);
        }
        for (const d of diagnostics) expect(d.message).not.toContain(temp.dir);

        // The id stays reserved; new writes get fresh ids and survive a restart.
        await expect(
          runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } }),
        ).rejects.toMatchObject({ code: 'duplicate_worker' });
        const after = await runtime.sendInput('other', { kind: 'system', content: 'after', idempotency_key: 'ka' });
        expect(after.event_id).toBeGreaterThan(Math.max(seeded.last_event_id, ...events));
        const otherLength = (await contents(runtime, 'other')).length;
        let wAck: InputAck | null = null;
        try {
          wAck = await runtime.sendInput('w', { kind: 'system', content: 'w after' });
        } catch (error) {
          // A worker whose record was lost with its worker.json comes back stopped.
          expect(isRuntimeError(error) && error.code === 'worker_stopped').toBe(true);
        }
        if (wAck) expect(wAck.transcript_sequence).toBe(before + 1);
        await runtime.close();

        const reopened = await open();
        const otherAfter = await contents(reopened, 'other');
        expect(otherAfter).toHaveLength(otherLength);
        expect(otherAfter.at(-1)).toBe('after');
        if (wAck) expect((await contents(reopened, 'w')).at(-1)).toBe('w after');
        expect(
          await reopened.sendInput('other', { kind: 'system', content: 'after', idempotency_key: 'ka' }),
        ).toMatchObject({
          replayed: true,
          event_id: after.event_id,
        });
        await reopened.close();
      });
    }
  }
});
