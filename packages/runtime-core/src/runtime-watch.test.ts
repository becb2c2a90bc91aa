import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';
import { MemoryStore } from './memory-store.js';
import type { Runtime, RuntimeOptions } from './runtime.js';
import type { RuntimeEvent } from './schemas/event.js';
import type { WatchItem } from './schemas/stream.js';
import { runtimesClosedAfterEach } from './test-runtimes.js';
import { createGateEngine } from './testing/test-engines.js';
import type { Watch } from './watch.js';
import { watchItemData } from './watch-items.js';

const runtime = runtimesClosedAfterEach({ grace_ms: 50 });

const echo = { intent: { kind: 'assistant' as const }, profile: { kind: 'runtime_default' as const } };
const gated = { intent: { kind: 'assistant' as const }, profile: { kind: 'named' as const, value: 'gated' } };

async function gatedRuntime(
  options: RuntimeOptions = {},
): Promise<{ rt: Runtime; gate: ReturnType<typeof createGateEngine> }> {
  const gate = createGateEngine();
  const rt = await runtime({ engines: [gate], profiles: { gated: { engine: 'gate' } }, ...options });
  await rt.createWorker({ ...gated, worker_id: 'w' });
  return { rt, gate };
}

/** Pulls items until `stop` says so (the matching item included). */
async function take(watch: Watch, stop: (item: WatchItem, all: WatchItem[]) => boolean): Promise<WatchItem[]> {
  const items: WatchItem[] = [];
  for (;;) {
    const next = await watch.next();
    if (next.done) return items;
    items.push(next.value);
    if (stop(next.value, items)) return items;
  }
}

function eventIds(items: readonly WatchItem[]): number[] {
  return items.flatMap((item) => (item.type === 'event' ? [item.event.id] : []));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** A memory store whose event reads let the test commit more events around each read. */
class ReadHookStore extends MemoryStore {
  around: ((read: () => Promise<RuntimeEvent[]>) => Promise<RuntimeEvent[]>) | null = null;
  reads = 0;

  override async readEvents(query: { after: number; limit: number; worker_id?: string }): Promise<RuntimeEvent[]> {
    this.reads++;
    const read = (): Promise<RuntimeEvent[]> => super.readEvents(query);
    return this.around ? this.around(read) : read();
  }
}

describe('Runtime#watch: replay and live', () => {
  test('is gap-free and exactly once while events are committed during the replay', async () => {
    const store = new ReadHookStore();
    const rt = await runtime({ store, limits: { max_event_batch: 5 } });
    await rt.createWorker({ ...echo, worker_id: 'w' });
    for (let i = 0; i < 20; i++) await rt.sendInput('w', { kind: 'system', content: `before ${i}` });
    let during = 0;
    store.around = async (read) => {
      // One commit lands before the store is read (the read sees events past the watermark), one after.
      await rt.sendInput('w', { kind: 'system', content: `during ${during++}` });
      const events = await read();
      await rt.sendInput('w', { kind: 'system', content: `during ${during++}` });
      return events;
    };
    const watermark = (await rt.summary()).last_event_id;
    const watch = rt.watch({ after: 0 });
    await watch.ready();
    const items = await take(watch, (_, all) => store.reads > 6 && eventIds(all).length >= watermark + 4);
    store.around = null;
    await rt.sendInput('w', { kind: 'system', content: 'after' });
    const last = (await rt.summary()).last_event_id;
    items.push(...(await take(watch, (item) => item.type === 'event' && item.event.id === last)));
    await watch.return();
    expect(store.reads).toBeGreaterThan(6);
    expect(eventIds(items)).toEqual(range(1, last));
    expect(items.every((item) => item.type === 'event')).toBe(true);
  });

  test('without after it starts at the next new event, like tail -f', async () => {
    const rt = await runtime();
    await rt.createWorker({ ...echo, worker_id: 'w' });
    const before = (await rt.summary()).last_event_id;
    const watch = rt.watch({});
    await watch.ready();
    const ack = await rt.sendInput('w', { kind: 'system', content: 'now' });
    const items = await take(watch, (item) => item.type === 'event' && item.event.kind === 'transcript_appended');
    await watch.return();
    expect(eventIds(items)).toEqual([before + 1, before + 2]);
    expect(items[0]).toMatchObject({ type: 'event', event: { id: ack.event_id, kind: 'worker_input_accepted' } });
  });

  test('filters by worker, and two watchers see the same sequence', async () => {
    const rt = await runtime();
    await rt.createWorker({ ...echo, worker_id: 'a' });
    await rt.createWorker({ ...echo, worker_id: 'b' });
    const one = rt.watch({ after: 0, worker_id: 'a' });
    const two = rt.watch({ after: 0, worker_id: 'a' });
    for (let i = 0; i < 5; i++) {
      await rt.sendInput('a', { kind: 'system', content: `a${i}` });
      await rt.sendInput('b', { kind: 'system', content: `b${i}` });
    }
    const last = (await rt.readEvents({ worker_id: 'a', limit: 1000 })).next_after;
    const stop = (item: WatchItem): boolean => item.type === 'event' && item.event.id === last;
    const [first, second] = await Promise.all([take(one, stop), take(two, stop)]);
    await Promise.all([one.return(), two.return()]);
    expect(first).toEqual(second);
    expect(first.every((item) => item.type === 'event' && item.event.worker_ref?.worker_id === 'a')).toBe(true);
    expect(eventIds(first)).toEqual((await rt.readEvents({ worker_id: 'a', limit: 1000 })).items.map((e) => e.id));
  });

  test('items are frozen: one consumer cannot change what another sees', async () => {
    const rt = await runtime();
    await rt.createWorker({ ...echo, worker_id: 'w' });
    const watch = rt.watch({ after: 0 });
    const [item] = await take(watch, () => true);
    await watch.return();
    expect(Object.isFrozen(item)).toBe(true);
    expect(item?.type === 'event' && Object.isFrozen(item.event.worker_ref)).toBe(true);
  });
});

test('live items are one shared object per item; watchItemData is its wire JSON', async () => {
  const { rt, gate } = await gatedRuntime();
  const one = rt.watch({});
  const two = rt.watch({});
  await rt.sendInput('w', { kind: 'user', content: 'x' });
  (await gate.started(0)).run.delta('reply:');
  const stop = (item: WatchItem): boolean => item.type === 'delta';
  const [a, b] = await Promise.all([take(one, stop), take(two, stop)]);
  await Promise.all([one.return(), two.return()]);
  expect(a.length).toBeGreaterThan(1);
  for (const [i, item] of a.entries()) expect(item).toBe(b[i]);
  const [event, delta] = [a[0], a.at(-1)];
  if (event?.type !== 'event' || delta?.type !== 'delta') throw new Error('expected an event, then a delta');
  expect(JSON.parse(watchItemData(event))).toEqual(event.event);
  const { type: _type, ...wire } = delta;
  expect(JSON.parse(watchItemData(delta))).toEqual(wire);
});

describe('Runtime#watch: deltas', () => {
  test('a watch opened mid-reply gets the text so far, then the rest; together they are the entry', async () => {
    const { rt, gate } = await gatedRuntime();
    const ack = await rt.sendInput('w', { kind: 'user', content: 'hello world' });
    const { run } = await gate.started(0);
    run.delta('reply:hel');
    run.delta('lo w');
    const watch = rt.watch({ worker_id: 'w' });
    await watch.ready();
    run.delta('or');
    run.delta('ld');
    gate.runs[0]?.release();
    const items = await take(watch, (item) => item.type === 'event' && item.event.kind === 'run_completed');
    await watch.return();
    const deltas = items.flatMap((item) => (item.type === 'delta' ? [item] : []));
    expect(deltas.map(({ entry, offset, content }) => ({ entry, offset, content }))).toEqual([
      { entry: 0, offset: 0, content: 'reply:hello w' },
      { entry: 0, offset: 13, content: 'or' },
      { entry: 0, offset: 15, content: 'ld' },
    ]);
    expect(deltas.every((d) => d.run_id === ack.run_id && d.worker_ref.worker_id === 'w')).toBe(true);
    const entry = (await rt.transcript('w')).items.at(-1);
    expect(deltas.map((d) => d.content).join('')).toBe(entry?.content);
    // Deltas come before the entry's durable event, and carry no event id.
    expect(items.findIndex((i) => i.type === 'event' && i.event.kind === 'transcript_appended')).toBeGreaterThan(
      items.findIndex((i) => i.type === 'delta' && i.offset === 15),
    );
    expect(deltas.every((d) => !('id' in d))).toBe(true);
  });

  test('on resume the replayed events come first, then the catch-up delta, then live items', async () => {
    const { rt, gate } = await gatedRuntime();
    await rt.sendInput('w', { kind: 'user', content: 'x' });
    const { run } = await gate.started(0);
    run.delta('reply:');
    const watch = rt.watch({ after: 0, worker_id: 'w' });
    const items = await take(watch, (item) => item.type === 'delta');
    run.delta('x');
    items.push(...(await take(watch, (item) => item.type === 'delta')));
    await watch.return();
    const firstDelta = items.findIndex((item) => item.type === 'delta');
    expect(items.slice(0, firstDelta).map((i) => i.type === 'event' && i.event.kind)).toEqual([
      'worker_created',
      'diagnostic_recorded',
      'worker_input_accepted',
      'run_started',
      'transcript_appended',
    ]);
    expect(items.slice(firstDelta)).toMatchObject([
      { type: 'delta', entry: 0, offset: 0, content: 'reply:' },
      { type: 'delta', entry: 0, offset: 6, content: 'x' },
    ]);
  });

  test('a watch opened as an entry becomes durable gets no catch-up for it: the event already has it', async () => {
    const { rt, gate } = await gatedRuntime();
    await rt.sendInput('w', { kind: 'user', content: 'x' });
    const { run } = await gate.started(0);
    run.delta('reply:x');
    let opened: Watch | null = null;
    const unsubscribe = rt.subscribe((event) => {
      if (event.kind === 'transcript_appended' && event.data?.role === 'assistant')
        opened = rt.watch({ worker_id: 'w' });
    });
    gate.runs[0]?.release();
    await rt.getRun('w', run.run_id, { wait_ms: 5000 });
    unsubscribe();
    const watch = opened as Watch | null;
    if (!watch) throw new Error('no watch was opened');
    const first = await watch.next();
    await watch.return();
    expect(first.value).toMatchObject({ type: 'event', event: { kind: 'run_completed' } });
  });

  test('a run watch has only that run, and resuming after the run ended replays it and ends', async () => {
    const { rt, gate } = await gatedRuntime();
    const first = await rt.sendInput('w', { kind: 'user', content: 'one' });
    const live = rt.watch({ worker_id: 'w', run_id: first.run_id as string, after: first.event_id - 1 });
    await live.ready();
    (await gate.started(0)).run.delta('reply:one');
    gate.runs[0]?.release();
    const seen: WatchItem[] = [];
    for await (const item of live) seen.push(item);
    expect(seen.map((i) => (i.type === 'event' ? i.event.kind : 'delta'))).toEqual([
      'worker_input_accepted',
      'run_started',
      'transcript_appended',
      'delta',
      'transcript_appended',
      'run_completed',
    ]);
    expect(live.ended).toBe(true);
    expect(rt.watchCount).toBe(0);

    const second = await rt.sendInput('w', { kind: 'user', content: 'two' });
    (await gate.started(1)).release();
    await rt.getRun('w', second.run_id as string, { wait_ms: 5000 });
    const resumed: WatchItem[] = [];
    for await (const item of rt.watch({ worker_id: 'w', run_id: first.run_id as string, after: 0 })) resumed.push(item);
    expect(resumed).toEqual(seen.filter((item) => item.type === 'event'));
    // Resuming after the terminal event ends at once instead of waiting forever.
    const terminal = seen.at(-1);
    const after = terminal?.type === 'event' ? terminal.event.id : 0;
    const rest: WatchItem[] = [];
    for await (const item of rt.watch({ worker_id: 'w', run_id: first.run_id as string, after })) rest.push(item);
    expect(rest).toEqual([]);
  });

  test('a cancelled run ends its run watch with run_cancelled; the watch cancels nothing itself', async () => {
    const { rt, gate } = await gatedRuntime();
    const ack = await rt.sendInput('w', { kind: 'user', content: 'x' });
    await gate.started(0);
    const dropped = rt.watch({ worker_id: 'w', run_id: ack.run_id as string });
    await dropped.ready();
    await dropped.return();
    expect((await rt.getRun('w', ack.run_id as string)).status).toBe('running');
    const watch = rt.watch({ worker_id: 'w', run_id: ack.run_id as string });
    await watch.ready();
    await rt.cancelWorker('w');
    const items: WatchItem[] = [];
    for await (const item of watch) items.push(item);
    expect(items.at(-1)).toMatchObject({ type: 'event', event: { kind: 'run_cancelled' } });
  });
});

describe('Runtime#watch: errors and limits', () => {
  test('cursor_expired comes before the first item; after 0 starts at the oldest retained event', async () => {
    const rt = await runtime({ limits: { max_retained_events: 5 } });
    await rt.createWorker({ ...echo, worker_id: 'w' });
    for (let i = 0; i < 5; i++) await rt.sendInput('w', { kind: 'system', content: `${i}` });
    const expired = rt.watch({ after: 1 });
    await expect(expired.ready()).rejects.toMatchObject({ code: 'cursor_expired', details: { oldest_available: 9 } });
    await expect(expired.next()).rejects.toMatchObject({ code: 'cursor_expired' });
    expect(await expired.next()).toEqual({ done: true, value: undefined });
    const oldest = rt.watch({ after: 0 });
    await oldest.ready();
    const last = (await rt.summary()).last_event_id;
    expect(eventIds(await take(oldest, (item) => item.type === 'event' && item.event.id === last))).toEqual(
      range(last - 4, last),
    );
    await oldest.return();
    expect(rt.watchCount).toBe(0);
  });

  test.each([
    [{ after: -1 }, 'invalid_request'],
    [{ after: 10_000 }, 'invalid_request'],
    [{ worker_id: 'no/slash' }, 'invalid_id'],
    [{ run_id: 'r' }, 'invalid_request'],
    [{ worker_id: 'missing', run_id: 'r' }, 'worker_not_found'],
    [{ worker_id: 'w', run_id: 'missing' }, 'run_not_found'],
  ])('%j → %s before the first item', async (options, code) => {
    const rt = await runtime();
    await rt.createWorker({ ...echo, worker_id: 'w' });
    const watch = rt.watch(options);
    await expect(watch.ready()).rejects.toMatchObject({ code });
    await expect(watch.next()).rejects.toMatchObject({ code });
    expect(rt.watchCount).toBe(0);
  });

  test('max_streams watches at most; the next one is too_many_streams', async () => {
    const rt = await runtime({ limits: { max_streams: 2 } });
    const a = rt.watch();
    const b = rt.watch();
    expect(rt.watchCount).toBe(2);
    await expect(rt.watch().ready()).rejects.toMatchObject({ code: 'too_many_streams', details: { max_streams: 2 } });
    await a.return();
    const c = rt.watch();
    await c.ready();
    await Promise.all([b.return(), c.return()]);
    expect(rt.watchCount).toBe(0);
  });

  test('a consumer too far behind is ended with slow_consumer; a fast one and the runtime go on', async () => {
    const rt = await runtime({ limits: { max_stream_buffer_bytes: 4096 } });
    await rt.createWorker({ ...echo, worker_id: 'w' });
    const slow = rt.watch({});
    const fast = rt.watch({});
    await Promise.all([slow.ready(), fast.ready()]);
    const seen: number[] = [];
    const reading = (async () => {
      for await (const item of fast) if (item.type === 'event') seen.push(item.event.id);
    })();
    for (let i = 0; i < 100; i++) await rt.sendInput('w', { kind: 'system', content: 'x'.repeat(100) });
    const last = (await rt.summary()).last_event_id;
    await expect(slow.next()).rejects.toMatchObject({ code: 'slow_consumer' });
    expect(await slow.next()).toEqual({ done: true, value: undefined });
    while (seen.at(-1) !== last) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen).toEqual(range(last - 199, last));
    expect(rt.watchCount).toBe(1);
    await fast.return();
    await reading;
  });
});

describe('Runtime#watch: ending and cleanup', () => {
  test('an aborted signal ends a waiting watch and removes its listener', async () => {
    const rt = await runtime();
    const controller = new AbortController();
    const watch = rt.watch({ signal: controller.signal });
    const pending = watch.next();
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(rt.watchCount).toBe(0);
    const already = rt.watch({ signal: controller.signal });
    await already.ready();
    expect(await already.next()).toEqual({ done: true, value: undefined });
  });

  test('opening and dropping 10,000 watches leaves no listener and no open watch behind', async () => {
    const rt = await runtime();
    await rt.createWorker({ ...echo, worker_id: 'w' });
    const controller = new AbortController();
    for (let i = 0; i < 10_000; i++) {
      const watch = rt.watch({ after: 0, worker_id: 'w', signal: controller.signal });
      if (i % 2 === 0) await watch.next();
      await watch.return();
    }
    expect(EventEmitter.getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(rt.watchCount).toBe(0);
    // The runtime still streams to the next watch as usual.
    const watch = rt.watch({ signal: controller.signal });
    await watch.ready();
    await rt.sendInput('w', { kind: 'system', content: 'still here' });
    expect((await watch.next()).value).toMatchObject({ type: 'event', event: { kind: 'worker_input_accepted' } });
    controller.abort();
    expect(await watch.next()).toEqual({ done: true, value: undefined });
  });

  test('close() ends every watch promptly, after the events of the shutdown', async () => {
    const { rt, gate } = await gatedRuntime();
    await rt.sendInput('w', { kind: 'user', content: 'x' });
    await gate.started(0);
    const watches = Array.from({ length: 50 }, () => rt.watch({}));
    await Promise.all(watches.map((watch) => watch.ready()));
    const collected = Promise.all(
      watches.map(async (watch) => {
        const kinds: string[] = [];
        for await (const item of watch) if (item.type === 'event') kinds.push(item.event.kind);
        return kinds;
      }),
    );
    await rt.close({ grace_ms: 5000 });
    for (const kinds of await collected) expect(kinds).toEqual(['runtime_stopping', 'run_interrupted']);
    expect(rt.watchCount).toBe(0);
    await expect(rt.watch().ready()).rejects.toMatchObject({ code: 'runtime_unavailable' });
  });
});
