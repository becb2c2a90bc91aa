import { describe, expect, test } from 'vitest';
import { Mutex } from './mutex.js';

describe('Mutex', () => {
  test('holders run one at a time, in call order, each after the caller went on', async () => {
    const lock = new Mutex();
    const log: string[] = [];
    let inside = 0;
    const holder = (name: string) => async () => {
      inside++;
      expect(inside).toBe(1);
      log.push(`${name} in`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.push(`${name} out`);
      inside--;
      return name;
    };
    const results = [lock.run(holder('a')), lock.run(holder('b')), lock.run(holder('c'))];
    log.push('called');
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['called', 'a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
  });

  test('a holder that throws or rejects fails its own call and lets the next one in', async () => {
    const lock = new Mutex();
    const thrown = lock.run(() => {
      throw new Error('sync');
    });
    const rejected = lock.run(async () => {
      throw new Error('async');
    });
    const next = lock.run(() => 'next');
    await expect(thrown).rejects.toThrow('sync');
    await expect(rejected).rejects.toThrow('async');
    expect(await next).toBe('next');
  });

  test('a caller resumes before the next holder runs', async () => {
    const lock = new Mutex();
    const log: string[] = [];
    const first = lock.run(async () => 'first').then(() => log.push('first resumed'));
    const second = lock.run(async () => log.push('second runs'));
    await Promise.all([first, second]);
    expect(log).toEqual(['first resumed', 'second runs']);
  });
});
