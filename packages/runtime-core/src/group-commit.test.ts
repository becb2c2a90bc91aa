import { describe, expect, test } from 'vitest';
import { GroupCommit } from './group-commit.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('GroupCommit', () => {
  test('batches of one tick form one group; batches arriving during a flush share the next', async () => {
    const groups: number[][] = [];
    const gate = deferred();
    const commit = new GroupCommit<number>(async (group) => {
      groups.push([...group]);
      if (groups.length === 1) await gate.promise;
    });
    const settled: number[] = [];
    const first = [1, 2].map((n) => commit.enqueue(n).then(() => settled.push(n)));
    await Promise.resolve();
    await Promise.resolve();
    const later = [3, 4, 5].map((n) => commit.enqueue(n).then(() => settled.push(n)));
    gate.resolve();
    await Promise.all([...first, ...later]);
    expect(groups).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    expect(settled).toEqual([1, 2, 3, 4, 5]);
    await commit.idle();
  });

  test('a failed flush rejects its own group only, and later groups still flush in order', async () => {
    const gate = deferred();
    let calls = 0;
    const commit = new GroupCommit<string>(async (group) => {
      calls += 1;
      if (calls === 1) {
        await gate.promise;
        throw new Error(`disk full for ${group.join(',')}`);
      }
    });
    const failed = commit.enqueue('a');
    await Promise.resolve();
    await Promise.resolve();
    const next = commit.enqueue('b');
    gate.resolve();
    await expect(failed).rejects.toThrow('disk full for a');
    await expect(next).resolves.toBeUndefined();
  });

  test('idle waits for the group being flushed', async () => {
    const gate = deferred();
    let flushed = false;
    const commit = new GroupCommit<number>(async () => {
      await gate.promise;
      flushed = true;
    });
    const pending = commit.enqueue(1);
    const idle = commit.idle().then(() => flushed);
    await Promise.resolve();
    gate.resolve();
    await pending;
    expect(await idle).toBe(true);
  });
  test('with splits, groups even out with the batches in flight (halves when none are) and settle in order', async () => {
    const log: string[] = [];
    const gate = deferred();
    const commit = new GroupCommit<number, void>({
      write: async (group) => void log.push(`write ${group.join(',')}`),
      publish: async (group) => {
        if (group.includes(1)) await gate.promise;
        log.push(`published ${group.join(',')}`);
      },
      overlaps: () => true,
      splits: true,
    });
    const settled: number[] = [];
    const all = [1, 2, 3, 4, 5].map((n) => commit.enqueue(n).then(() => settled.push(n)));
    for (let i = 0; i < 10; i++) await Promise.resolve();
    // The second half is written while the first is still being published (its sync in flight).
    expect(log).toEqual(['write 1,2,3', 'write 4,5']);
    gate.resolve();
    await Promise.all(all);
    expect(log).toEqual(['write 1,2,3', 'write 4,5', 'published 1,2,3', 'published 4,5']);
    expect(settled).toEqual([1, 2, 3, 4, 5]);
    await commit.idle();
  });
});
