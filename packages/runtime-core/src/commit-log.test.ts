import { describe, expect, test } from 'vitest';
import { CommitLog } from './commit-log.js';
import { generateId } from './identity.js';
import { MemoryStore } from './memory-store.js';
import type { RuntimeEvent } from './schemas/event.js';
import type { StoreRecord } from './store.js';
import { Timestamps } from './timestamps.js';
import { WorkerRegistry } from './worker-registry.js';

/** A memory store whose commits are held until `release` settles them, in the order given. */
class HeldStore extends MemoryStore {
  readonly held: { records: readonly StoreRecord[]; settle: (error?: Error) => void }[] = [];

  override commit(records: readonly StoreRecord[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.held.push({
        records,
        settle: (error) => (error ? reject(error) : super.commit(records).then(resolve, reject)),
      });
    });
  }
}

async function openLog(): Promise<{ store: HeldStore; log: CommitLog }> {
  const store = new HeldStore();
  const clock = new Timestamps(Date.now);
  const snapshot = await store.open({
    generate_id: () => generateId(),
    now: clock.iso(),
    max_diagnostics: 10,
    max_retained_events: 1000,
  });
  const workers = new WorkerRegistry(snapshot.runtime.runtime_id);
  const log = new CommitLog({ store, clock, workers, last_event_id: 0, diagnostics: [], max_diagnostics: 10 });
  return { store, log };
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('CommitLog', () => {
  test('batches apply and resolve in call order even when the store settles them out of order', async () => {
    const { store, log } = await openLog();
    const published: number[] = [];
    log.subscribe((event: RuntimeEvent) => published.push(event.id));
    const resolved: number[] = [];
    const commits = [1, 2, 3].map((n) => {
      const records: StoreRecord[] = [];
      log.event(records, 'runtime_started', `batch ${n}`);
      return log.commit(records).then(() => resolved.push(n));
    });
    let drained = false;
    void log.drained().then(() => (drained = true));
    store.held[2]?.settle();
    store.held[1]?.settle();
    await tick();
    expect(published).toEqual([]);
    expect(log.lastEventId).toBe(0);
    expect(drained).toBe(false);
    store.held[0]?.settle();
    await Promise.all(commits);
    expect(published).toEqual([1, 2, 3]);
    expect(resolved).toEqual([1, 2, 3]);
    expect(log.lastEventId).toBe(3);
    await tick();
    expect(drained).toBe(true);
  });

  test('a failed batch fails with store_unavailable, after the batches before it, and so does every later commit', async () => {
    const { store, log } = await openLog();
    const outcomes: string[] = [];
    const commit = (n: number): Promise<void> => {
      const records: StoreRecord[] = [];
      log.event(records, 'runtime_started', `batch ${n}`);
      return log.commit(records).then(
        () => void outcomes.push(`${n} ok`),
        (error: { code?: string }) => void outcomes.push(`${n} ${error.code}`),
      );
    };
    const first = commit(1);
    const second = commit(2);
    store.held[1]?.settle(new Error('disk gone'));
    await tick();
    expect(outcomes).toEqual([]);
    store.held[0]?.settle();
    await Promise.all([first, second]);
    expect(outcomes).toEqual(['1 ok', '2 store_unavailable']);
    expect(log.failure?.code).toBe('store_unavailable');
    await commit(3);
    expect(outcomes).toEqual(['1 ok', '2 store_unavailable', '3 store_unavailable']);
    expect(store.held).toHaveLength(2);
    await log.drained();
  });
});
