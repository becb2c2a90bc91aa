import { describe, expect, test } from 'vitest';
import { MemoryStore } from './memory-store.js';
import { Runtime } from './runtime.js';
import type { RuntimeEvent } from './schemas/event.js';
import type { Diagnostic } from './schemas/runtime.js';
import type { TranscriptEntry } from './schemas/transcript.js';
import type { StoreOpenRequest, StoreSnapshot } from './store.js';
import { runtimesClosedAfterEach } from './test-runtimes.js';
import { createGateEngine } from './testing/test-engines.js';

const runtime = runtimesClosedAfterEach({ grace_ms: 50 });

const echo = { intent: { kind: 'assistant' as const }, profile: { kind: 'runtime_default' as const } };

async function converse(rt: Runtime, worker_id: string, turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) {
    const ack = await rt.sendInput(worker_id, { kind: 'user', content: `turn ${i}` });
    await rt.getRun(worker_id, ack.run_id as string, { wait_ms: 5000 });
  }
}

describe('events', () => {
  test('ids are dense from 1 and each event kind tells the story of a run', async () => {
    const rt = await runtime();
    await rt.createWorker({ ...echo, worker_id: 'w' });
    await converse(rt, 'w', 2);
    const { items, next_after, has_more, runtime_id } = await rt.readEvents({ limit: 1000 });
    expect(runtime_id).toBe(rt.runtime_id);
    expect(items.map((e) => e.id)).toEqual(items.map((_, i) => i + 1));
    expect(next_after).toBe(items.length);
    expect(has_more).toBe(false);
    expect(items.slice(3, 9).map((e) => e.kind)).toEqual([
      'worker_input_accepted',
      'run_started',
      'transcript_appended',
      'transcript_appended',
      'run_completed',
      'worker_input_accepted',
    ]);
  });

  test('pages with after/limit/has_more and filters by worker', async () => {
    const rt = await runtime();
    await rt.createWorker({ ...echo, worker_id: 'a' });
    await rt.createWorker({ ...echo, worker_id: 'b' });
    await converse(rt, 'a', 1);
    await converse(rt, 'b', 1);
    const page = await rt.readEvents({ after: 2, limit: 3 });
    expect(page.items.map((e) => e.id)).toEqual([3, 4, 5]);
    expect(page).toMatchObject({ next_after: 5, has_more: true });
    const onlyB = await rt.readEvents({ worker_id: 'b', limit: 1000 });
    expect(onlyB.items.length).toBeGreaterThan(0);
    expect(onlyB.items.every((e) => e.worker_ref?.worker_id === 'b')).toBe(true);
    await expect(rt.readEvents({ limit: 1001 })).rejects.toMatchObject({ code: 'limit_too_large' });
    await expect(rt.readEvents({ worker_id: '../x' })).rejects.toMatchObject({ code: 'invalid_id' });
    await expect(rt.readEvents({ after: 10_000 })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  test('a long-poll wakes early when an event arrives', async () => {
    const rt = await runtime();
    await rt.createWorker({ ...echo, worker_id: 'w' });
    const { next_after } = await rt.readEvents({ limit: 1000 });
    const started = Date.now();
    const poll = rt.readEvents({ after: next_after, wait_ms: 30_000 });
    setTimeout(() => void rt.sendInput('w', { kind: 'system', content: 'wake up' }), 20);
    const batch = await poll;
    expect(batch.items[0]).toMatchObject({ id: next_after + 1, kind: 'worker_input_accepted' });
    expect(Date.now() - started).toBeLessThan(25_000);
  });

  test('a long-poll with nothing new answers empty after wait_ms, and at once when the runtime closes', async () => {
    const rt = await runtime();
    const { next_after } = await rt.readEvents();
    const empty = await rt.readEvents({ after: next_after, wait_ms: 30 });
    expect(empty).toMatchObject({ items: [], next_after, has_more: false });
    const poll = rt.readEvents({ after: (await rt.summary()).last_event_id, wait_ms: 60_000 });
    await rt.close();
    const closed = await poll;
    expect(closed.items.every((e) => e.kind === 'runtime_stopping')).toBe(true);
  });

  test('getRun long-polls until the run is terminal', async () => {
    const rt = await runtime({ profiles: { slow: { engine: 'echo', delay_ms: 50 } } });
    await rt.createWorker({ ...echo, worker_id: 's', profile: { kind: 'named', value: 'slow' } });
    const ack = await rt.sendInput('s', { kind: 'user', content: 'x' });
    expect((await rt.getRun('s', ack.run_id as string)).status).toBe('running');
    expect((await rt.getRun('s', ack.run_id as string, { wait_ms: 10_000 })).status).toBe('completed');
  });

  test('old cursors expire once retention trims the log', async () => {
    const rt = await runtime({ limits: { max_retained_events: 5 } });
    await rt.createWorker({ ...echo, worker_id: 'w' });
    await converse(rt, 'w', 2);
    const error = await rt.readEvents({ after: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'cursor_expired', details: { oldest_available: expect.any(Number) } });
    const oldest = (error as { details: { oldest_available: number } }).details.oldest_available;
    expect((await rt.readEvents({ after: oldest - 1 })).items).toHaveLength(5);
    // Without a cursor a reader starts at the oldest retained event instead of failing.
    const fromStart = await rt.readEvents();
    expect(fromStart.items[0]?.id).toBe(oldest);
    expect(fromStart.items).toHaveLength(5);
  });

  test('subscribers see every committed event in order, and unsubscribe', async () => {
    const rt = await runtime();
    const seen: RuntimeEvent[] = [];
    const unsubscribe = rt.subscribe((event) => seen.push(event));
    rt.subscribe(() => {
      throw new Error('a broken listener does not break the runtime');
    });
    await rt.createWorker({ ...echo, worker_id: 'w' });
    await converse(rt, 'w', 1);
    const log = await rt.readEvents({ after: 1, limit: 1000 });
    expect(seen).toEqual(log.items);
    unsubscribe();
    await rt.sendInput('w', { kind: 'system', content: 'x' });
    expect(seen).toHaveLength(log.items.length);
  });

  test('diagnostics are bounded to the newest max_diagnostics', async () => {
    const rt = await runtime({ limits: { max_diagnostics: 3 } });
    for (let i = 0; i < 5; i++) await rt.createWorker({ ...echo, worker_id: `w${i}` });
    const diagnostics = await rt.diagnostics();
    expect(diagnostics.map((d) => d.worker_ref?.worker_id)).toEqual(['w2', 'w3', 'w4']);
  });
});

describe('transcript paging', () => {
  test('start/limit/tail, next_start, and limits', async () => {
    const rt = await runtime({ limits: { max_transcript_page: 4 } });
    await rt.createWorker({ ...echo, worker_id: 'w' });
    await converse(rt, 'w', 3);
    const first = await rt.transcript('w');
    expect(first).toMatchObject({ start: 0, limit: 4, total_items: 6, next_start: 4 });
    expect(first.items.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
    const rest = await rt.transcript('w', { start: 4 });
    expect(rest.items.map((e) => e.sequence)).toEqual([5, 6]);
    expect(rest.next_start).toBeNull();
    expect((await rt.transcript('w', { tail: 2 })).items.map((e) => e.content)).toEqual(['turn 2', 'echo: turn 2']);
    expect((await rt.transcript('w', { start: 100 })).items).toEqual([]);
    await expect(rt.transcript('w', { limit: 0 })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(rt.transcript('w', { limit: 5 })).rejects.toMatchObject({ code: 'limit_too_large' });
    await expect(rt.transcript('w', { tail: 5 })).rejects.toMatchObject({ code: 'limit_too_large' });
  });
});

describe('recovery', () => {
  test('a run found running in the store becomes interrupted, with an event; the worker is idle', async () => {
    const store = new MemoryStore();
    // The first runtime's engine never finishes; the runtime is abandoned as a crashed process would be.
    const first = await Runtime.open({ store, engines: [createGateEngine()], profiles: { slow: { engine: 'gate' } } });
    await first.createWorker({ ...echo, worker_id: 'w', profile: { kind: 'named', value: 'slow' } });
    const ack = await first.sendInput('w', { kind: 'user', content: 'in flight' });
    // Simulate a crash: the store is released without the Runtime finishing its run.
    await store.close();

    const second = await runtime({ store, profiles: { slow: { engine: 'echo', delay_ms: 60_000 } } });
    expect(await second.getRun('w', ack.run_id as string)).toMatchObject({
      status: 'interrupted',
      error: { code: 'interrupted' },
    });
    expect(await second.getWorker('w')).toMatchObject({
      status: 'idle',
      active_run: null,
      last_run: { run_id: ack.run_id },
    });
    const kinds = (await second.readEvents({ limit: 1000 })).items.map((e) => e.kind);
    expect(kinds.slice(-2)).toEqual(['run_interrupted', 'runtime_started']);
  });
});

describe('late store diagnostics', () => {
  test('a diagnostic a store reports after opening is recorded with an event', async () => {
    class ReportingStore extends MemoryStore {
      #report: ((diagnostic: Diagnostic) => void) | undefined;
      override async open(request: StoreOpenRequest): Promise<StoreSnapshot> {
        this.#report = request.report_diagnostic;
        return super.open(request);
      }
      override async readTranscript(worker_id: string, start: number, limit: number): Promise<TranscriptEntry[]> {
        this.#report?.({
          id: 'late-1',
          severity: 'warning',
          code: 'store_corrupt_record',
          message: 'a record was skipped',
          created_at: 'x',
        });
        return super.readTranscript(worker_id, start, limit);
      }
    }
    const rt = await runtime({ store: new ReportingStore() });
    await rt.createWorker({ ...echo, worker_id: 'w' });
    await rt.sendInput('w', { kind: 'system', content: 'x' });
    const before = (await rt.summary()).last_event_id;
    await rt.transcript('w');
    const batch = await rt.readEvents({ after: before, wait_ms: 5000 });
    expect(batch.items.at(-1)).toMatchObject({ kind: 'diagnostic_recorded', data: { code: 'store_corrupt_record' } });
    expect((await rt.diagnostics()).at(-1)).toMatchObject({ id: 'late-1', severity: 'warning' });
  });
});
