import { describe, expect, test } from 'vitest';
import type { RuntimeEvent } from './schemas/event.js';
import type { OutputDelta, WatchItem } from './schemas/stream.js';
import { WatchHub, type WatchHubOptions } from './watch-hub.js';

/** A small event log and delta channel behind the hub's interfaces, counting live subscriptions. */
function sources(): {
  options: WatchHubOptions;
  emit: (kind?: RuntimeEvent['kind']) => RuntimeEvent;
  delta: (content: string) => void;
  subscriptions: () => number;
} {
  const events: RuntimeEvent[] = [];
  const eventListeners = new Set<(event: RuntimeEvent) => void>();
  const deltaListeners = new Set<(delta: OutputDelta) => void>();
  const worker_ref = { runtime_id: 'rt', worker_id: 'w' };
  return {
    options: {
      source: {
        readEvents: async ({ after, limit }) => structuredClone(events.filter((e) => e.id > after).slice(0, limit)),
      },
      lastEventId: () => events.length,
      subscribeEvents: (listener) => {
        eventListeners.add(listener);
        return () => eventListeners.delete(listener);
      },
      subscribeDeltas: (listener) => {
        deltaListeners.add(listener);
        return () => deltaListeners.delete(listener);
      },
      catchUp: () => [],
      findRun: async () => undefined,
      runLive: () => true,
      accepting: () => true,
      limits: { max_streams: 100_000, max_stream_buffer_bytes: 2000, max_event_batch: 10 },
    },
    emit: (kind = 'transcript_appended') => {
      const event: RuntimeEvent = {
        id: events.length + 1,
        kind,
        worker_ref,
        run_id: 'r',
        message: 'm',
        created_at: '2026-01-01T00:00:00.000Z',
      };
      events.push(event);
      for (const listener of eventListeners) listener(structuredClone(event));
      return event;
    },
    delta: (content) => {
      for (const listener of deltaListeners) listener({ worker_ref, run_id: 'r', entry: 0, offset: 0, content });
    },
    subscriptions: () => eventListeners.size + deltaListeners.size,
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('WatchHub', () => {
  test('subscribes once while any watch is open, and not at all once the last one ends', async () => {
    const s = sources();
    const hub = new WatchHub(s.options);
    s.emit();
    expect(s.subscriptions()).toBe(0);
    const watches = Array.from({ length: 3 }, () => hub.open({ after: 0 }));
    expect(s.subscriptions()).toBe(2);
    for (const watch of watches) await watch.return();
    expect(s.subscriptions()).toBe(0);
    for (let i = 0; i < 10_000; i++) {
      const watch = hub.open({ after: 0 });
      if (i % 3 === 0) await watch.next();
      await watch.return();
    }
    expect(s.subscriptions()).toBe(0);
    expect(hub.size).toBe(0);
  });

  test('a watch over its buffer limit ends alone; the others keep every item', async () => {
    const s = sources();
    const hub = new WatchHub(s.options);
    const slow = hub.open({});
    const fast = hub.open({});
    const got: string[] = [];
    for (let i = 0; i < 40; i++) {
      s.delta(`chunk ${i}`);
      const next = await fast.next();
      if (!next.done && next.value.type === 'delta') got.push(next.value.content);
    }
    expect(got).toHaveLength(40);
    await expect(slow.next()).rejects.toMatchObject({ code: 'slow_consumer' });
    expect(hub.size).toBe(1);
    s.emit();
    expect((await fast.next()).value).toMatchObject({ type: 'event', event: { id: 1 } });
    await fast.return();
    expect(s.subscriptions()).toBe(0);
  });

  test('closeAll lets a live watch drain, and cuts a replay short rather than skip to live items', async () => {
    const s = sources();
    for (let i = 0; i < 30; i++) s.emit();
    const hub = new WatchHub(s.options);
    const replaying = hub.open({ after: 0 });
    const live = hub.open({});
    await Promise.all([replaying.ready(), live.ready()]);
    s.emit();
    hub.closeAll();
    expect(await replaying.next()).toEqual({ done: true, value: undefined });
    expect((await live.next()).value).toMatchObject({ type: 'event', event: { id: 31 } });
    expect(await live.next()).toEqual({ done: true, value: undefined });
    expect(s.subscriptions()).toBe(0);
  });

  test('take() hands over what is buffered at once, in order and exactly once with next()', async () => {
    const s = sources();
    for (let i = 0; i < 25; i++) s.emit();
    const hub = new WatchHub(s.options);
    const watch = hub.open({ after: 0 });
    expect(watch.take()).toBeUndefined();
    await watch.ready();
    const ids: number[] = [];
    const record = (item: WatchItem | undefined): boolean => {
      if (item?.type === 'event') ids.push(item.event.id);
      return item !== undefined;
    };
    // The first replay batch (10 events) is read by ready(): taken synchronously, then a batch must be read.
    while (record(watch.take()));
    expect(ids).toEqual(range(1, 10));
    record((await watch.next()).value);
    while (record(watch.take()));
    expect(ids).toEqual(range(1, 20));
    for (let i = 0; i < 10; i++) s.emit();
    for (let i = 0; i < 3; i++) s.delta(`d${i}`);
    for (;;) {
      const item = watch.take() ?? (await watch.next()).value;
      record(item);
      if (item?.type === 'delta' && item.content === 'd2') break;
    }
    expect(ids).toEqual(range(1, 35));
    expect(watch.take()).toBeUndefined();
    const waiting = watch.next();
    s.emit();
    // A pending next() is served first: take() does not jump the queue.
    expect(watch.take()).toBeUndefined();
    expect((await waiting).value).toMatchObject({ type: 'event', event: { id: 36 } });
    await watch.return();
    s.emit();
    expect(watch.take()).toBeUndefined();
    expect(await watch.next()).toEqual({ done: true, value: undefined });
  });

  test('next() calls made at once get the items in call order; a failed watch takes nothing', async () => {
    const s = sources();
    const hub = new WatchHub(s.options);
    const watch = hub.open({});
    await watch.ready();
    const results = [watch.next(), watch.next(), watch.next()];
    s.delta('a');
    s.delta('b');
    s.delta('c');
    const contents = (await Promise.all(results)).map((r) => (r.value?.type === 'delta' ? r.value.content : null));
    expect(contents).toEqual(['a', 'b', 'c']);
    for (let i = 0; i < 40; i++) s.delta(`chunk ${i}`);
    expect(watch.take()).toBeUndefined();
    await expect(watch.next()).rejects.toMatchObject({ code: 'slow_consumer' });
    expect(await watch.next()).toEqual({ done: true, value: undefined });
  });

  test('a notify() callback that throws does not keep the item from the other watches; its error surfaces on its own', async () => {
    const s = sources();
    const hub = new WatchHub(s.options);
    const throwing = hub.open({});
    const other = hub.open({});
    await Promise.all([throwing.ready(), other.ready()]);
    const boom = new Error('the callback failed');
    expect(
      throwing.notify(() => {
        throw boom;
      }),
    ).toBe(true);
    // The error is thrown from a later tick, as an uncaught exception: catch it here instead.
    const saved = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const surfaced = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    try {
      s.delta('shared');
      expect(other.take()).toMatchObject({ type: 'delta', content: 'shared' });
      expect(throwing.take()).toMatchObject({ type: 'delta', content: 'shared' });
      expect(await surfaced).toBe(boom);
    } finally {
      process.removeAllListeners('uncaughtException');
      for (const listener of saved) process.on('uncaughtException', listener);
    }
  });

  test('notify() arms a callback only while the watch waits for live items, and calls it once on arrival or end', async () => {
    const s = sources();
    for (let i = 0; i < 15; i++) s.emit();
    const hub = new WatchHub(s.options);
    const watch = hub.open({ after: 0 });
    let calls = 0;
    const callback = (): void => {
      calls++;
    };
    expect(watch.notify(callback)).toBe(false);
    await watch.ready();
    // Replay still to go: take() and next() have items, nothing to wait for.
    expect(watch.notify(callback)).toBe(false);
    let replayed = 0;
    while (watch.take() !== undefined) replayed++;
    expect(watch.notify(callback)).toBe(false);
    expect((await watch.next()).value).toMatchObject({ type: 'event', event: { id: 11 } });
    while (watch.take() !== undefined) replayed++;
    expect(replayed).toBe(14);
    expect(watch.notify(callback)).toBe(true);
    expect(calls).toBe(0);
    s.delta('one');
    // Called synchronously, once, and the item is there to take.
    expect(calls).toBe(1);
    s.delta('two');
    expect(calls).toBe(1);
    expect(watch.notify(callback)).toBe(false);
    expect(watch.take()).toMatchObject({ type: 'delta', content: 'one' });
    expect(watch.take()).toMatchObject({ type: 'delta', content: 'two' });
    expect(watch.notify(callback)).toBe(true);
    // An armed callback still fires when a next() made meanwhile gets the item; no notify() then.
    const pending = watch.next();
    expect(watch.notify(callback)).toBe(false);
    s.delta('three');
    expect((await pending).value).toMatchObject({ type: 'delta', content: 'three' });
    expect(calls).toBe(2);
    expect(watch.notify(callback)).toBe(true);
    for (let i = 0; i < 40; i++) s.delta(`chunk ${i}`);
    expect(calls).toBe(3);
    // Taken nothing while 40 chunks arrived: over the buffer bound, the watch failed.
    expect(watch.notify(callback)).toBe(false);
    await expect(watch.next()).rejects.toMatchObject({ code: 'slow_consumer' });
    const other = hub.open({});
    await other.ready();
    expect(other.notify(callback)).toBe(true);
    await other.return();
    expect(calls).toBe(4);
    expect(other.notify(callback)).toBe(false);
    expect(s.subscriptions()).toBe(0);
  });
});
