import { afterEach, describe, expect, test } from 'vitest';
import { generateId } from '../identity.js';
import type { RuntimeEvent } from '../schemas/event.js';
import type { Diagnostic } from '../schemas/runtime.js';
import type { TranscriptEntry } from '../schemas/transcript.js';
import type { RuntimeStore, StoreOpenRequest, StoreRecord } from '../store.js';
import { registerSuiteHooks, type StoreFixture, type SuiteHooks } from './fixture.js';
import { NOW, runRecord, workerRecord } from './records.js';

function openRequest(overrides: Partial<StoreOpenRequest> = {}): StoreOpenRequest {
  return {
    generate_id: () => generateId(),
    now: NOW,
    max_diagnostics: 1000,
    max_retained_events: 100_000,
    ...overrides,
  };
}

/** Builds batches the way a Runtime does: dense event ids, dense sequences per worker. */
class Batches {
  lastEventId = 0;
  readonly sequences = new Map<string, number>();
  constructor(readonly runtime_id: string) {}

  event(kind: RuntimeEvent['kind'], worker_id?: string): StoreRecord {
    const event: RuntimeEvent = {
      id: ++this.lastEventId,
      kind,
      ...(worker_id !== undefined ? { worker_ref: { runtime_id: this.runtime_id, worker_id } } : {}),
      message: `${kind} ${this.lastEventId}`,
      created_at: NOW,
    };
    return { type: 'event', event };
  }

  entry(worker_id: string, content: string): StoreRecord[] {
    const sequence = (this.sequences.get(worker_id) ?? 0) + 1;
    this.sequences.set(worker_id, sequence);
    const event = this.event('transcript_appended', worker_id);
    const entry: TranscriptEntry = {
      sequence,
      worker_ref: { runtime_id: this.runtime_id, worker_id },
      role: sequence % 2 === 1 ? 'user' : 'assistant',
      content,
      run_id: null,
      event_id: event.type === 'event' ? event.event.id : 0,
      created_at: NOW,
    };
    return [event, { type: 'transcript', entry }];
  }
}

/**
 * The `RuntimeStore` contract, run against any store. Each case gets a fresh fixture; `fixture.open()`
 * called again after `close()` must see the same state (a restart).
 */
export function describeRuntimeStore(name: string, fixture: () => Promise<StoreFixture>, hooks: SuiteHooks = {}): void {
  describe(`RuntimeStore contract: ${name}`, () => {
    registerSuiteHooks(hooks);
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });

    async function setup(): Promise<{ fx: StoreFixture; store: RuntimeStore; runtime_id: string; b: Batches }> {
      const fx = await fixture();
      const store = fx.open();
      cleanups.push(async () => {
        await store.close();
        await fx.cleanup();
      });
      const snapshot = await store.open(openRequest());
      return { fx, store, runtime_id: snapshot.runtime.runtime_id, b: new Batches(snapshot.runtime.runtime_id) };
    }

    async function restart(fx: StoreFixture, store: RuntimeStore): Promise<RuntimeStore> {
      await store.close();
      const next = fx.open();
      cleanups.push(() => next.close());
      return next;
    }

    test('a new store creates a runtime and keeps its id across a restart', async () => {
      const { fx, store, runtime_id } = await setup();
      expect(runtime_id).toMatch(/^[0-9a-f-]{36}$/);
      const again = await restart(fx, store);
      const snapshot = await again.open(openRequest());
      expect(snapshot.runtime.runtime_id).toBe(runtime_id);
      expect(snapshot.workers).toEqual([]);
      expect(snapshot.last_event_id).toBe(0);
    });

    test('an explicit runtime id is used when the store is new', async () => {
      const fx = await fixture();
      const store = fx.open();
      cleanups.push(async () => {
        await store.close();
        await fx.cleanup();
      });
      const snapshot = await store.open(openRequest({ runtime_id: 'rt-explicit', display_name: 'Explicit' }));
      expect(snapshot.runtime).toMatchObject({ runtime_id: 'rt-explicit', display_name: 'Explicit' });
    });

    test('committed workers, transcripts and events survive a restart in order', async () => {
      const { fx, store, b } = await setup();
      await store.commit([{ type: 'worker', worker: workerRecord('w1') }, b.event('worker_created', 'w1')]);
      await store.commit([{ type: 'worker', worker: workerRecord('w2') }, b.event('worker_created', 'w2')]);
      for (let i = 0; i < 5; i++) await store.commit(b.entry('w1', `message ${i}`));
      const again = await restart(fx, store);
      const snapshot = await again.open(openRequest());
      expect(snapshot.workers.map((w) => w.worker.worker_id)).toEqual(['w1', 'w2']);
      const w1 = snapshot.workers[0];
      expect(w1?.worker).toEqual(workerRecord('w1'));
      expect(w1?.transcript_len).toBe(5);
      expect(w1?.last_event_id).toBe(b.lastEventId);
      expect(snapshot.workers[1]?.transcript_len).toBe(0);
      expect(snapshot.last_event_id).toBe(b.lastEventId);
      const page = await again.readTranscript('w1', 1, 3);
      expect(page.map((e) => [e.sequence, e.content])).toEqual([
        [2, 'message 1'],
        [3, 'message 2'],
        [4, 'message 3'],
      ]);
      expect(await again.readTranscript('w1', 4, 10)).toHaveLength(1);
      expect(await again.readTranscript('w1', 5, 10)).toEqual([]);
    });

    test('the optional fields of transcript entries survive a restart, absent when unused', async () => {
      const { fx, store, b } = await setup();
      await store.commit([{ type: 'worker', worker: workerRecord('w') }, b.event('worker_created', 'w')]);
      const [callEvent, call] = b.entry('w', '');
      const [toolEvent, tool] = b.entry('w', 'not found');
      if (call?.type !== 'transcript' || tool?.type !== 'transcript') throw new Error('unexpected records');
      call.entry.tool_calls = [{ id: 'c1', name: 'fs__read', arguments: '{"path":"x"}' }];
      tool.entry.role = 'tool';
      Object.assign(tool.entry, { tool_call_id: 'c1', name: 'fs__read', is_error: true });
      await store.commit([callEvent as StoreRecord, call, toolEvent as StoreRecord, tool]);
      await store.commit(b.entry('w', 'plain'));
      const again = await restart(fx, store);
      await again.open(openRequest());
      const [first, second, third] = await again.readTranscript('w', 0, 10);
      expect(first).toEqual(call.entry);
      expect(second).toEqual(tool.entry);
      expect(Object.keys(third ?? {}).sort()).toEqual(
        ['content', 'created_at', 'event_id', 'role', 'run_id', 'sequence', 'worker_ref'].sort(),
      );
    });

    test('events are read after a cursor, limited, and filtered by worker', async () => {
      const { store, b } = await setup();
      await store.commit([{ type: 'worker', worker: workerRecord('a') }, b.event('worker_created', 'a')]);
      await store.commit([{ type: 'worker', worker: workerRecord('b') }, b.event('worker_created', 'b')]);
      for (let i = 0; i < 4; i++) {
        await store.commit(b.entry('a', `a${i}`));
        await store.commit(b.entry('b', `b${i}`));
      }
      await store.commit([b.event('runtime_started')]);
      const all = await store.readEvents({ after: 0, limit: 100 });
      expect(all.map((e) => e.id)).toEqual(Array.from({ length: b.lastEventId }, (_, i) => i + 1));
      const page = await store.readEvents({ after: 3, limit: 2 });
      expect(page.map((e) => e.id)).toEqual([4, 5]);
      const onlyB = await store.readEvents({ after: 0, limit: 100, worker_id: 'b' });
      expect(onlyB.every((e) => e.worker_ref?.worker_id === 'b')).toBe(true);
      expect(onlyB).toHaveLength(5);
      const bAfter = await store.readEvents({ after: onlyB[1]?.id ?? 0, limit: 2, worker_id: 'b' });
      expect(bAfter.map((e) => e.id)).toEqual([onlyB[2]?.id, onlyB[3]?.id]);
      expect(await store.readEvents({ after: b.lastEventId, limit: 10 })).toEqual([]);
    });

    test('runs keep their latest state; unfinished ones come back with their pending input', async () => {
      const { fx, store, b } = await setup();
      await store.commit([{ type: 'worker', worker: workerRecord('w') }, b.event('worker_created', 'w')]);
      const done = runRecord('r1', { status: 'running', input_sequence: 1, started_at: NOW });
      await store.commit([{ type: 'run', run: { worker_id: 'w', run: done, input: null } }]);
      await store.commit([
        {
          type: 'run',
          run: { worker_id: 'w', run: { ...done, status: 'completed', ended_at: NOW, output_entries: 1 }, input: null },
        },
      ]);
      const running = runRecord('r2', { status: 'running', input_sequence: 3, started_at: NOW, idempotency_key: 'k' });
      await store.commit([{ type: 'run', run: { worker_id: 'w', run: running, input: null } }]);
      await store.commit([
        { type: 'run', run: { worker_id: 'w', run: runRecord('r3'), input: { content: 'third', timeout_ms: 50 } } },
      ]);
      await store.commit([
        { type: 'run', run: { worker_id: 'w', run: runRecord('r4'), input: { content: 'fourth', timeout_ms: null } } },
      ]);

      const again = await restart(fx, store);
      const snapshot = await again.open(openRequest());
      const w = snapshot.workers[0];
      expect(w?.last_run).toMatchObject({ run_id: 'r1', status: 'completed', output_entries: 1 });
      expect(w?.unfinished_runs.map((r) => [r.run.run_id, r.run.status, r.input?.content ?? null])).toEqual([
        ['r2', 'running', null],
        ['r3', 'queued', 'third'],
        ['r4', 'queued', 'fourth'],
      ]);
      expect(w?.unfinished_runs[1]?.input).toEqual({ content: 'third', timeout_ms: 50 });
      expect(await again.getRun('w', 'r1')).toMatchObject({ status: 'completed' });
      expect(await again.getRun('w', 'nope')).toBeNull();
      expect((await again.listRuns('w', { limit: 10 })).map((r) => r.run_id)).toEqual(['r1', 'r2', 'r3', 'r4']);
      expect((await again.listRuns('w', { after_run_id: 'r2', limit: 1 })).map((r) => r.run_id)).toEqual(['r3']);
    });

    test('a worker record replacement (stop) survives a restart', async () => {
      const { fx, store, b } = await setup();
      await store.commit([{ type: 'worker', worker: workerRecord('w') }, b.event('worker_created', 'w')]);
      const stopped = b.event('worker_stopped', 'w');
      const id = stopped.type === 'event' ? stopped.event.id : 0;
      await store.commit([
        { type: 'worker', worker: workerRecord('w', { status: 'stopped', stopped_event_id: id }) },
        stopped,
      ]);
      const again = await restart(fx, store);
      const snapshot = await again.open(openRequest());
      expect(snapshot.workers[0]?.worker).toMatchObject({ status: 'stopped', stopped_event_id: id });
      expect(snapshot.workers[0]?.last_event_id).toBe(id);
    });

    test('idempotency records are durable', async () => {
      const { fx, store, runtime_id, b } = await setup();
      await store.commit([{ type: 'worker', worker: workerRecord('w') }, b.event('worker_created', 'w')]);
      const ack = {
        worker_ref: { runtime_id, worker_id: 'w' },
        status: 'running' as const,
        run_id: 'r1',
        run_status: 'running' as const,
        transcript_sequence: 1,
        queue_position: null,
        event_id: 2,
        replayed: false,
      };
      await store.commit([{ type: 'idempotency', record: { worker_id: 'w', key: 'key-1', fingerprint: 'fp', ack } }]);
      const again = await restart(fx, store);
      await again.open(openRequest());
      expect(await again.getIdempotency('w', 'key-1')).toEqual({
        worker_id: 'w',
        key: 'key-1',
        fingerprint: 'fp',
        ack,
      });
      expect(await again.getIdempotency('w', 'key-2')).toBeNull();
    });

    test('diagnostics are durable and bounded to the newest', async () => {
      const { fx, store } = await setup();
      for (let i = 0; i < 5; i++) {
        const diagnostic: Diagnostic = {
          id: `d${i}`,
          severity: 'info',
          code: 'test.code',
          message: `m${i}`,
          created_at: NOW,
        };
        await store.commit([{ type: 'diagnostic', diagnostic }]);
      }
      const again = await restart(fx, store);
      const snapshot = await again.open(openRequest({ max_diagnostics: 3 }));
      expect(snapshot.diagnostics.map((d) => d.id)).toEqual(['d2', 'd3', 'd4']);
    });

    test('concurrent commits resolve in call order and are all applied', async () => {
      const { store, b } = await setup();
      await store.commit([{ type: 'worker', worker: workerRecord('w') }, b.event('worker_created', 'w')]);
      const resolved: number[] = [];
      const commits = Array.from({ length: 50 }, (_, i) =>
        store.commit(b.entry('w', `c${i}`)).then(() => resolved.push(i)),
      );
      await Promise.all(commits);
      expect(resolved).toEqual(Array.from({ length: 50 }, (_, i) => i));
      const entries = await store.readTranscript('w', 0, 100);
      expect(entries.map((e) => e.content)).toEqual(Array.from({ length: 50 }, (_, i) => `c${i}`));
      expect((await store.readEvents({ after: 0, limit: 1000 })).length).toBe(b.lastEventId);
    });

    test('a store cannot be opened twice at once', async () => {
      const { fx } = await setup();
      const second = fx.open();
      await expect(second.open(openRequest())).rejects.toMatchObject({ code: 'store_locked' });
    });
  });
}
