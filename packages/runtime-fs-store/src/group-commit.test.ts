import { describe, expect, test } from 'vitest';
import { GroupCommit } from './group-commit.js';

/** A promise with its resolve function, for stages the test releases by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Lets pending microtasks and I/O callbacks run. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  test('the next group is written while the previous one publishes; promises settle in call order', async () => {
    const log: string[] = [];
    const publishGate = gate();
    const group = new GroupCommit<string, void>({
      write: async (batches) => void log.push(`write ${batches.join(',')}`),
      publish: async (batches) => {
        log.push(`publish ${batches.join(',')} begins`);
        if (batches.includes('a')) await publishGate.promise;
        log.push(`publish ${batches.join(',')} ends`);
      },
      overlaps: () => true,
    });
    const settled: string[] = [];
    const first = group.enqueue('a').then(() => settled.push('a'));
    await tick();
    const second = group.enqueue('b').then(() => settled.push('b'));
    await tick();
    // b is durable while a is still being published, but b does not publish (or settle) before a.
    expect(log).toEqual(['write a', 'publish a begins', 'write b']);
    expect(settled).toEqual([]);
    publishGate.open();
    await Promise.all([first, second]);
    expect(log).toEqual([
      'write a',
      'publish a begins',
      'write b',
      'publish a ends',
      'publish b begins',
      'publish b ends',
    ]);
    expect(settled).toEqual(['a', 'b']);
    await group.idle();
  });

  test('without overlap (a checkpoint is due) the next group waits until the previous one is published', async () => {
    const log: string[] = [];
    const publishGate = gate();
    const group = new GroupCommit<string, boolean>({
      write: async (batches) => {
        log.push(`write ${batches.join(',')}`);
        return batches.includes('a');
      },
      publish: async (batches, checkpoint) => {
        if (checkpoint) await publishGate.promise;
        log.push(`published ${batches.join(',')}`);
      },
      overlaps: (checkpoint) => !checkpoint,
    });
    const first = group.enqueue('a');
    await tick();
    const second = group.enqueue('b');
    await tick();
    expect(log).toEqual(['write a']);
    publishGate.open();
    await Promise.all([first, second]);
    expect(log).toEqual(['write a', 'published a', 'write b', 'published b']);
  });

  test('a failed write rejects its group only after the earlier group settled', async () => {
    const settled: string[] = [];
    const publishGate = gate();
    const group = new GroupCommit<string, void>({
      write: async (batches) => {
        if (batches.includes('b')) throw new Error('disk full');
      },
      publish: async () => publishGate.promise,
      overlaps: () => true,
    });
    const first = group.enqueue('a').then(() => settled.push('a resolved'));
    await tick();
    const second = group.enqueue('b').catch((error: Error) => settled.push(`b ${error.message}`));
    await tick();
    expect(settled).toEqual([]);
    publishGate.open();
    await Promise.all([first, second]);
    expect(settled).toEqual(['a resolved', 'b disk full']);
  });

  test('at most one group publishes while the next is written', async () => {
    let writing = 0;
    let publishing = 0;
    let maxAhead = 0;
    const group = new GroupCommit<number, void>({
      write: async () => {
        writing++;
        maxAhead = Math.max(maxAhead, publishing + writing);
        await tick();
        writing--;
      },
      publish: async () => {
        publishing++;
        await tick();
        await tick();
        publishing--;
      },
      overlaps: () => true,
    });
    const all: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      all.push(group.enqueue(i));
      if (i % 3 === 0) await tick();
    }
    await Promise.all(all);
    expect(maxAhead).toBeLessThanOrEqual(2);
  });
});
