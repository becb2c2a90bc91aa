import { describe, expect, test } from 'vitest';
import type { WorkerEngine } from './engine.js';
import { MemoryStore } from './memory-store.js';
import type { Runtime, RuntimeOptions } from './runtime.js';
import type { WatchItem } from './schemas/stream.js';
import type { StoreRecord } from './store.js';
import { runtimesClosedAfterEach } from './test-runtimes.js';
import { createGateEngine, type GateEngine } from './testing/test-engines.js';
import type { Watch } from './watch.js';

// An engine's final entry (`run()` resolving with `{ final }`) commits in the run's terminal batch.

const runtime = runtimesClosedAfterEach({ grace_ms: 50 });
const worker = {
  worker_id: 'w',
  intent: { kind: 'assistant' as const },
  profile: { kind: 'runtime_default' as const },
};

/** A memory store that remembers every batch; `hold` (when set) decides which batches wait for `release()`. */
class RecordingStore extends MemoryStore {
  readonly batches: StoreRecord[][] = [];
  hold: ((records: readonly StoreRecord[]) => boolean) | null = null;
  #held: (() => void)[] = [];

  override async commit(records: readonly StoreRecord[]): Promise<void> {
    this.batches.push(structuredClone([...records]));
    if (this.hold?.(records)) await new Promise<void>((resolve) => this.#held.push(resolve));
    return super.commit(records);
  }

  release(): void {
    for (const resume of this.#held.splice(0)) resume();
  }
}

async function withEngine(engine: WorkerEngine, options: RuntimeOptions = {}, profile = {}): Promise<Runtime> {
  const rt = await runtime({
    engines: [engine],
    profiles: { main: { engine: engine.name, ...profile } },
    default_profile: 'main',
    ...options,
  });
  await rt.createWorker(worker);
  return rt;
}

/** Pulls items until the run's terminal event (included). */
async function untilRunEnds(watch: Watch): Promise<WatchItem[]> {
  const items: WatchItem[] = [];
  for (;;) {
    const next = await watch.next();
    if (next.done) return items;
    items.push(next.value);
    if (
      next.value.type === 'event' &&
      next.value.event.kind.startsWith('run_') &&
      next.value.event.kind !== 'run_started'
    ) {
      return items;
    }
  }
}

/** What a watch saw, without ids and times: event kinds (with their data) and deltas. */
function shape(items: readonly WatchItem[]): unknown[] {
  return items.map((item) =>
    item.type === 'event'
      ? { kind: item.event.kind, data: item.event.data }
      : { delta: item.entry, offset: item.offset, content: item.content },
  );
}

function kinds(batch: readonly StoreRecord[]): string[] {
  return batch.map((record) => (record.type === 'event' ? record.event.kind : record.type));
}

describe('an engine final entry', () => {
  test('echo: a cycle is two commits, the reply in the batch that completes the run', async () => {
    const store = new RecordingStore();
    const rt = await runtime({ store });
    await rt.createWorker(worker);
    store.batches.length = 0;
    const ack = await rt.sendInput('w', { kind: 'user', content: 'hi' });
    const run = await rt.getRun('w', ack.run_id as string, { wait_ms: 5000 });
    expect(run).toMatchObject({ status: 'completed', output_entries: 1 });
    expect(store.batches.map(kinds)).toEqual([
      ['worker_input_accepted', 'run_started', 'run', 'transcript_appended', 'transcript'],
      ['transcript_appended', 'transcript', 'run', 'run_completed'],
    ]);
    // The run record is written twice (started, ended), never with the intermediate output count.
    const runs = store.batches.flat().flatMap((record) => (record.type === 'run' ? [record.run.run] : []));
    expect(runs.map((r) => [r.status, r.output_entries])).toEqual([
      ['running', 0],
      ['completed', 1],
    ]);
    const items = (await rt.transcript('w')).items;
    expect(items.map((e) => [e.sequence, e.role, e.content, e.run_id])).toEqual([
      [1, 'user', 'hi', ack.run_id],
      [2, 'assistant', 'echo: hi', ack.run_id],
    ]);
    expect((await rt.getWorker('w')).transcript_len).toBe(2);
  });

  test('gives the same events, deltas, transcript and run as a last append', async () => {
    const seen = [];
    for (const final of [false, true]) {
      const gate = createGateEngine({ final });
      const rt = await withEngine(gate);
      const watch = rt.watch({ worker_id: 'w' });
      await watch.ready();
      const ack = await rt.sendInput('w', { kind: 'user', content: 'x' });
      const { run, release } = await gate.started(0);
      run.delta('rep');
      run.delta('ly:x');
      release();
      const items = await untilRunEnds(watch);
      await watch.return();
      const record = await rt.getRun('w', ack.run_id as string);
      const transcript = (await rt.transcript('w')).items.map(({ role, content, sequence }) => ({
        role,
        content,
        sequence,
      }));
      seen.push({ items: shape(items), transcript, run: [record.status, record.output_entries] });
    }
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[1]?.items.at(-2)).toEqual({ kind: 'transcript_appended', data: { sequence: 2, role: 'assistant' } });
    expect(seen[1]?.items.at(-1)).toMatchObject({ kind: 'run_completed' });
  });

  test('follows the entries appended before it: numbering, deltas and output_entries', async () => {
    const engine: WorkerEngine = {
      name: 'two',
      async run(run) {
        run.delta('first');
        await run.append({ role: 'assistant', content: 'first' });
        await run.append({ role: 'tool', content: 'ok', tool_call_id: 'c1', name: 't' });
        run.delta('second');
        return { final: { role: 'assistant', content: 'second' } };
      },
    };
    const rt = await withEngine(engine);
    const watch = rt.watch({ worker_id: 'w' });
    await watch.ready();
    const ack = await rt.sendInput('w', { kind: 'user', content: 'go' });
    const items = await untilRunEnds(watch);
    await watch.return();
    expect(
      items.filter((item) => item.type === 'delta').map((d) => d.type === 'delta' && [d.entry, d.content]),
    ).toEqual([
      [0, 'first'],
      [1, 'second'],
    ]);
    expect(await rt.getRun('w', ack.run_id as string)).toMatchObject({ status: 'completed', output_entries: 3 });
    expect((await rt.transcript('w')).items.map((e) => e.content)).toEqual(['go', 'first', 'ok', 'second']);
  });

  test('is still in progress for a watch opened while it commits: the catch-up delta has its text', async () => {
    const store = new RecordingStore();
    const gate = createGateEngine({ final: true });
    const rt = await withEngine(gate, { store });
    await rt.sendInput('w', { kind: 'user', content: 'x' });
    const { run, release } = await gate.started(0);
    run.delta('reply:x');
    store.hold = (records) => records.some((record) => record.type === 'run' && record.run.run.status === 'completed');
    release();
    while (!store.batches.some((batch) => store.hold?.(batch))) await new Promise((resolve) => setTimeout(resolve, 1));
    const watch = rt.watch({ worker_id: 'w' });
    await watch.ready();
    store.release();
    const items = await untilRunEnds(watch);
    await watch.return();
    expect(shape(items)).toEqual([
      { delta: 0, offset: 0, content: 'reply:x' },
      { kind: 'transcript_appended', data: { sequence: 2, role: 'assistant' } },
      expect.objectContaining({ kind: 'run_completed' }),
    ]);
  });

  test('a malformed one fails the run and is not written', async () => {
    const engine: WorkerEngine = {
      name: 'bad',
      async run() {
        return { final: { role: 'robot', content: 'x' } as never };
      },
    };
    const rt = await withEngine(engine);
    const ack = await rt.sendInput('w', { kind: 'user', content: 'go' });
    const run = await rt.getRun('w', ack.run_id as string, { wait_ms: 5000 });
    expect(run).toMatchObject({ status: 'failed', output_entries: 0, error: { code: 'engine_error' } });
    expect(run.error?.message).toMatch(/^invalid transcript entry: role/);
    expect((await rt.transcript('w')).items.map((e) => e.content)).toEqual(['go']);
  });

  async function lateFinal(gate: GateEngine, rt: Runtime, abort: () => Promise<unknown>): Promise<void> {
    const ack = await rt.sendInput('w', { kind: 'user', content: 'slow' });
    const started = await gate.started(0);
    const aborting = abort();
    while (!started.run.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 1));
    started.release(); // within the grace period the engine hands `late:slow` as its final entry
    await aborting;
    const run = await rt.getRun('w', ack.run_id as string, { wait_ms: 5000 });
    expect(run.output_entries).toBe(0);
    expect((await rt.transcript('w')).items.map((e) => e.content)).toEqual(['slow']);
    const events = (await rt.readEvents({ worker_id: 'w' })).items.map((e) => e.kind);
    expect(events.filter((kind) => kind === 'transcript_appended')).toHaveLength(1);
  }

  test('is dropped when the run was cancelled, like a late append', async () => {
    const gate = createGateEngine({ ignoreAbort: true, final: true });
    const rt = await withEngine(gate, { limits: { cancel_grace_ms: 10_000 } });
    await lateFinal(gate, rt, () => rt.cancelWorker('w'));
    expect((await rt.getWorker('w')).last_run).toMatchObject({ status: 'cancelled' });
  });

  test('is dropped when the run timed out, like a late append', async () => {
    const gate = createGateEngine({ ignoreAbort: true, final: true });
    const rt = await withEngine(gate, { limits: { cancel_grace_ms: 10_000 } }, { run_timeout_ms: 20 });
    await lateFinal(gate, rt, () => Promise.resolve());
    expect((await rt.getWorker('w')).last_run).toMatchObject({ status: 'timed_out' });
  });
});
