import { describe, expect, test } from 'vitest';
import { Notifier } from './notifier.js';

function settledWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('Notifier', () => {
  test('a notify between reading the version and waiting wakes the wait at once', async () => {
    const changes = new Notifier();
    const seen = changes.version;
    changes.notify();
    expect(await settledWithin(changes.wait(60_000, seen), 5000)).toBe(true);
  });

  test('without a notify since, a wait waits for the next one', async () => {
    const changes = new Notifier();
    const waiting = changes.wait(60_000, changes.version);
    expect(await settledWithin(waiting, 50)).toBe(false);
    changes.notify();
    expect(await settledWithin(waiting, 5000)).toBe(true);
  });

  test('a watch wakes only for notifies naming its key', async () => {
    const changes = new Notifier();
    const mine = {};
    const other = {};
    const watch = changes.watch(mine, 60_000, changes.version);
    try {
      const waiting = watch.next();
      changes.notify([{ state: other }]);
      expect(await settledWithin(waiting, 50)).toBe(false);
      changes.notify([{ state: mine }]);
      expect(await settledWithin(waiting, 5000)).toBe(true);
      // A notify while nobody waits is kept for the next call.
      changes.notify([{ state: mine }]);
      expect(await settledWithin(watch.next(), 5000)).toBe(true);
      expect(await settledWithin(watch.next(), 50)).toBe(false);
    } finally {
      watch.end();
    }
  });

  test('a watch counts any notify after the version it began from, and close wakes it', async () => {
    const changes = new Notifier();
    const key = {};
    const seen = changes.version;
    changes.notify();
    const watch = changes.watch(key, 60_000, seen);
    expect(await settledWithin(watch.next(), 5000)).toBe(true);
    const waiting = watch.next();
    expect(await settledWithin(waiting, 50)).toBe(false);
    changes.close();
    expect(await settledWithin(waiting, 5000)).toBe(true);
    watch.end();
  });

  test('a watch ends waiting at its deadline', async () => {
    const changes = new Notifier();
    const watch = changes.watch({}, 20, changes.version);
    expect(await settledWithin(watch.next(), 5000)).toBe(true);
    watch.end();
  });

  test('a watch with a filter wakes only for the notifies naming its key that the filter lets through', async () => {
    const changes = new Notifier<{ state: object; kind: string }>();
    const key = {};
    const watch = changes.watch(key, 60_000, changes.version, (change) => change.kind === 'ended');
    const other = changes.watch(key, 60_000, changes.version);
    try {
      const waiting = watch.next();
      const waitingOther = other.next();
      changes.notify([{ state: key, kind: 'appended' }]);
      expect(await settledWithin(waitingOther, 5000)).toBe(true);
      expect(await settledWithin(waiting, 50)).toBe(false);
      changes.notify([{ state: {}, kind: 'ended' }]);
      expect(await settledWithin(waiting, 50)).toBe(false);
      changes.notify([
        { state: key, kind: 'appended' },
        { state: key, kind: 'ended' },
      ]);
      expect(await settledWithin(waiting, 5000)).toBe(true);
    } finally {
      watch.end();
      other.end();
    }
    // Ended watches are forgotten: a later watch on the key starts clean.
    const later = changes.watch(key, 60_000, changes.version);
    expect(await settledWithin(later.next(), 50)).toBe(false);
    later.end();
  });
});
