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
});
