import { describe, expect, test } from 'vitest';
import type { RuntimeEvent } from './schemas/event.js';
import type { OutputDelta } from './schemas/stream.js';
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
});
