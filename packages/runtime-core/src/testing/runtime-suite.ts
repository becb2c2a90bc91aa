import { afterEach, describe, expect, test } from 'vitest';
import { Runtime, type RuntimeOptions } from '../runtime.js';
import type { RuntimeStore } from '../store.js';
import { registerSuiteHooks, type StoreFixture, type SuiteHooks } from './fixture.js';
import { createGateEngine } from './test-engines.js';

/**
 * Runtime behaviour that depends on the store (durability, restart, recovery), run against any
 * store. Each case gets a fresh fixture.
 */
export function describeRuntimeConformance(
  name: string,
  fixture: () => Promise<StoreFixture>,
  hooks: SuiteHooks = {},
): void {
  describe(`Runtime on store: ${name}`, () => {
    registerSuiteHooks(hooks);
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function setup(): Promise<{ fx: StoreFixture; open(options?: RuntimeOptions): Promise<Runtime> }> {
      const fx = await fixture();
      cleanups.push(() => fx.cleanup());
      return {
        fx,
        async open(options: RuntimeOptions = {}): Promise<Runtime> {
          const store: RuntimeStore = fx.open();
          const runtime = await Runtime.open({ store, ...options });
          cleanups.push(() => runtime.close());
          return runtime;
        },
      };
    }

    const create = { intent: { kind: 'assistant' as const }, profile: { kind: 'runtime_default' as const } };

    test('a create idempotency key survives a restart', async () => {
      const { open } = await setup();
      const first = await open();
      const made = await first.createWorker({ ...create, idempotency_key: 'create-key', metadata: { k: 'v' } });
      await first.close();
      const second = await open();
      const replay = await second.createWorker({ ...create, idempotency_key: 'create-key', metadata: { k: 'v' } });
      expect(replay.worker_id).toBe(made.worker_id);
      await expect(second.createWorker({ ...create, idempotency_key: 'create-key' })).rejects.toMatchObject({
        code: 'idempotency_conflict',
      });
      expect((await second.listWorkers()).workers).toHaveLength(1);
    });

    test('workers, transcripts, runs and events survive a restart; ids continue', async () => {
      const { open } = await setup();
      const first = await open({ display_name: 'Durable' });
      const worker = await first.createWorker({ ...create, worker_id: 'keeper', metadata: { k: 'v' } });
      const ack = await first.sendInput('keeper', { kind: 'user', content: 'remember me' });
      await first.getRun('keeper', ack.run_id as string, { wait_ms: 5000 });
      const before = await first.readEvents({ limit: 1000 });
      await first.close();

      const second = await open();
      expect(second.runtime_id).toBe(first.runtime_id);
      expect(second.display_name).toBe('Durable');
      const detail = await second.getWorker('keeper');
      expect(detail).toMatchObject({ worker_id: 'keeper', status: 'idle', transcript_len: 2, metadata: { k: 'v' } });
      expect(detail.created_at).toBe(worker.created_at);
      expect(detail.last_run).toMatchObject({ run_id: ack.run_id, status: 'completed', output_entries: 1 });
      const transcript = await second.transcript('keeper');
      expect(transcript.items.map((e) => [e.sequence, e.role, e.content])).toEqual([
        [1, 'user', 'remember me'],
        [2, 'assistant', 'echo: remember me'],
      ]);
      const events = await second.readEvents({ limit: 1000 });
      const ids = events.items.map((e) => e.id);
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
      expect(ids.length).toBeGreaterThan(before.items.length);
      expect(events.items.slice(0, before.items.length)).toEqual(before.items);

      const next = await second.sendInput('keeper', { kind: 'user', content: 'again' });
      expect(next.transcript_sequence).toBe(3);
      expect(next.event_id).toBeGreaterThan(ids[ids.length - 1] ?? 0);
      expect(next.run_id).not.toBe(ack.run_id);
    });

    test('a run that was active when the runtime closed comes back interrupted; queued inputs resume in order', async () => {
      const { open } = await setup();
      const gate = createGateEngine();
      const first = await open({ engines: [gate], profiles: { gated: { engine: 'gate' } } });
      await first.createWorker({ ...create, worker_id: 'w', profile: { kind: 'named', value: 'gated' } });
      const active = await first.sendInput('w', { kind: 'user', content: 'one' });
      const q1 = await first.sendInput('w', { kind: 'user', content: 'two', on_busy: 'enqueue' });
      const q2 = await first.sendInput('w', { kind: 'user', content: 'three', on_busy: 'enqueue' });
      await gate.started(0);
      await first.close();
      expect(gate.runs[0]?.run.signal.aborted).toBe(true);

      const gate2 = createGateEngine();
      const second = await open({ engines: [gate2], profiles: { gated: { engine: 'gate' } } });
      expect(await second.getRun('w', active.run_id as string)).toMatchObject({ status: 'interrupted' });
      (await gate2.started(0)).release();
      (await gate2.started(1)).release();
      expect(await second.getRun('w', q1.run_id as string, { wait_ms: 5000 })).toMatchObject({ status: 'completed' });
      expect(await second.getRun('w', q2.run_id as string, { wait_ms: 5000 })).toMatchObject({ status: 'completed' });
      const items = (await second.transcript('w')).items.map((e) => e.content);
      expect(items).toEqual(['one', 'two', 'reply:two', 'three', 'reply:three']);
      const kinds = (await second.readEvents({ worker_id: 'w', limit: 1000 })).items.map((e) => e.kind);
      expect(kinds).toContain('run_interrupted');
    });

    test('an idempotent input replays its original ack after a restart', async () => {
      const { open } = await setup();
      const first = await open();
      await first.createWorker({ ...create, worker_id: 'w' });
      const ack = await first.sendInput('w', { kind: 'user', content: 'once', idempotency_key: 'k1' });
      await first.close();
      const second = await open();
      const replay = await second.sendInput('w', { kind: 'user', content: 'once', idempotency_key: 'k1' });
      expect(replay).toEqual({ ...ack, replayed: true });
      await expect(
        second.sendInput('w', { kind: 'user', content: 'different', idempotency_key: 'k1' }),
      ).rejects.toMatchObject({
        code: 'idempotency_conflict',
      });
    });

    test('a stopped worker stays stopped after a restart with the same stop event', async () => {
      const { open } = await setup();
      const first = await open();
      await first.createWorker({ ...create, worker_id: 'w' });
      const stop = await first.stopWorker('w', { reason: 'done' });
      await first.close();
      const second = await open();
      expect((await second.getWorker('w')).status).toBe('stopped');
      expect(await second.stopWorker('w')).toEqual({ ...stop, run_id: null });
      await expect(second.sendInput('w', { kind: 'user', content: 'x' })).rejects.toMatchObject({
        code: 'worker_stopped',
      });
    });

    test('diagnostics survive a restart', async () => {
      const { open } = await setup();
      const first = await open();
      await first.createWorker({ ...create, worker_id: 'w' });
      const before = await first.diagnostics();
      expect(before.some((d) => d.code === 'worker.tools_less')).toBe(true);
      await first.close();
      const second = await open();
      expect(await second.diagnostics()).toEqual(expect.arrayContaining(before));
    });

    test('a long transcript pages from the store with start, limit and tail', async () => {
      const { open } = await setup();
      const runtime = await open();
      await runtime.createWorker({ ...create, worker_id: 'w' });
      for (let i = 0; i < 30; i++) await runtime.sendInput('w', { kind: 'system', content: `note ${i}` });
      const page = await runtime.transcript('w', { start: 10, limit: 5 });
      expect(page).toMatchObject({ start: 10, limit: 5, total_items: 30, next_start: 15 });
      expect(page.items.map((e) => e.sequence)).toEqual([11, 12, 13, 14, 15]);
      const tail = await runtime.transcript('w', { tail: 3 });
      expect(tail.items.map((e) => e.content)).toEqual(['note 27', 'note 28', 'note 29']);
      expect(tail.next_start).toBeNull();
    });
  });
}
