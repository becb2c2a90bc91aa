import { readFile, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Diagnostic,
  type IdempotencyRecord,
  Runtime,
  type RuntimeStore,
  type StoreOpenRequest,
} from '@worker-runtime/core';
import { workerRecord } from '@worker-runtime/core/testing';
import { describe, expect, test } from 'vitest';
import { type FsLike, nodeFs } from './fs-like.js';
import { createFsStore } from './fs-store.js';
import { at, idempotencyRecord } from './test-support/idempotency-records.js';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();
const log = (worker_id: string) => join(temp.dir, 'runtimes', 'rt', 'workers', worker_id, 'idempotency.jsonl');

const request = (report_diagnostic?: (d: Diagnostic) => void): StoreOpenRequest => ({
  runtime_id: 'rt',
  generate_id: () => 'rt',
  now: '2026-01-01T00:00:00.000Z',
  max_diagnostics: 100,
  max_retained_events: 100_000,
  ...(report_diagnostic ? { report_diagnostic } : {}),
});

const record = idempotencyRecord;

async function openStore(fs: FsLike = nodeFs, seen: Diagnostic[] = []): Promise<RuntimeStore> {
  const store = createFsStore({ data_dir: temp.dir, fs });
  await store.open(request((d) => seen.push(d)));
  return store;
}

/** A store with workers `ids`, each holding keys k0..k(count-1) made at minutes 0..count-1. */
async function seeded(ids: readonly string[], count: number, fs: FsLike = nodeFs): Promise<RuntimeStore> {
  const store = await openStore(fs);
  for (const id of ids) {
    await store.commit([{ type: 'worker', worker: workerRecord(id) }]);
    for (let n = 0; n < count; n++) await store.commit([{ type: 'idempotency', record: record(id, n) }]);
  }
  return store;
}

const keysOnDisk = async (worker_id: string): Promise<string[]> =>
  (await readFile(log(worker_id), 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as IdempotencyRecord).key);

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `k${from + i}`);

async function expectKeys(store: RuntimeStore, worker_id: string, live: number[], gone: number[]): Promise<void> {
  for (const n of live) expect(await store.getIdempotency(worker_id, `k${n}`)).toEqual(record(worker_id, n));
  for (const n of gone) expect(await store.getIdempotency(worker_id, `k${n}`)).toBeNull();
}

describe('expireIdempotency', () => {
  test('drops old keys from the log and keeps new ones, also across reopen and later writes', async () => {
    const store = await seeded(['w'], 10);
    // Loads the key index first, so the rewrite must replace it too.
    expect(await store.getIdempotency('w', 'k9')).not.toBeNull();
    await store.expireIdempotency?.(at(5));
    await expectKeys(store, 'w', [5, 6, 7, 8, 9], [0, 1, 2, 3, 4]);
    expect(await keysOnDisk('w')).toEqual(range(5, 10));
    await store.commit([{ type: 'idempotency', record: record('w', 10) }]);
    await expectKeys(store, 'w', [5, 10], [4]);
    await store.close();

    const seen: Diagnostic[] = [];
    const again = await openStore(nodeFs, seen);
    expect(seen).toEqual([]);
    await expectKeys(again, 'w', [5, 6, 7, 8, 9, 10], [0, 1, 2, 3, 4]);
    await again.commit([{ type: 'idempotency', record: record('w', 11) }]);
    await again.close();
    const third = await openStore();
    await expectKeys(third, 'w', [5, 9, 10, 11], [0, 4]);
    expect(await keysOnDisk('w')).toEqual(range(5, 12));
    await third.close();
  });

  test('a log is rewritten only once about half of it can go; lookups skip expired keys at once', async () => {
    const store = await seeded(['w'], 10);
    // Never rewritten: due as soon as its oldest record expires.
    await store.expireIdempotency?.(at(1));
    expect(await keysOnDisk('w')).toEqual(range(1, 10));
    // Half of k1..k9 by bytes is reached at k5: not due before the cutoff passes it.
    await store.expireIdempotency?.(at(5));
    await expectKeys(store, 'w', [5, 9], [0, 1, 4]);
    expect(await keysOnDisk('w')).toEqual(range(1, 10));
    await store.close();
    // The cutoff is kept across a restart.
    const again = await openStore();
    await expectKeys(again, 'w', [5, 9], [1, 4]);
    await again.expireIdempotency?.(at(6));
    expect(await keysOnDisk('w')).toEqual(range(6, 10));
    await expectKeys(again, 'w', [6, 9], [5]);
    await again.close();
  });

  test('a sweep touches only the logs that have something to drop', async () => {
    const store = await seeded(['rewritten'], 4);
    await store.commit([{ type: 'worker', worker: workerRecord('none') }]);
    await store.expireIdempotency?.(at(1));
    // k1..k3 kept: not due again until the cutoff passes k2, where half of them were made.
    expect(await keysOnDisk('rewritten')).toEqual(range(1, 4));
    await store.commit([{ type: 'worker', worker: workerRecord('fresh') }]);
    for (let n = 0; n < 4; n++) await store.commit([{ type: 'idempotency', record: record('fresh', n) }]);
    // A lookup writes the queued log lines, so both files exist.
    expect(await store.getIdempotency('fresh', 'never-used')).toBeNull();
    const inode = async (id: string) => (await stat(log(id))).ino;
    const before = { rewritten: await inode('rewritten'), fresh: await inode('fresh') };
    await store.expireIdempotency?.(at(2));
    expect(await inode('rewritten')).toBe(before.rewritten);
    expect(await inode('fresh')).not.toBe(before.fresh);
    expect(await keysOnDisk('fresh')).toEqual(range(2, 4));
    expect(await keysOnDisk('rewritten')).toEqual(range(1, 4));
    await expectKeys(store, 'rewritten', [2, 3], [0, 1]);
    await store.close();
  });

  test('lookups made while a log is replaced wait for it and find every live key', async () => {
    const first = await seeded(['w'], 300);
    await first.close();
    let lookups: Promise<IdempotencyRecord | null>[] = [];
    // Right after the rename puts the new log in place, before the store has taken it in.
    const fs: FsLike = {
      ...nodeFs,
      async rename(from, to) {
        await nodeFs.rename(from, to);
        if (!from.endsWith('.new')) return;
        lookups = Array.from({ length: 150 }, (_, i) => store.getIdempotency('w', `k${150 + i}`));
        await new Promise((resolve) => setTimeout(resolve, 50));
      },
    };
    // A new instance: no cached record, so the lookups read the log.
    const store = await openStore(fs);
    expect(await store.getIdempotency('w', 'k299')).toEqual(record('w', 299));
    await store.expireIdempotency?.(at(150));
    expect(lookups).toHaveLength(150);
    const found = await Promise.all(lookups);
    expect(found).toEqual(Array.from({ length: 150 }, (_, i) => record('w', 150 + i)));
    expect(await keysOnDisk('w')).toEqual(range(150, 300));
    await expectKeys(store, 'w', [150, 299], [0, 149]);
    await store.close();
  });

  test("under the Runtime's sweep a long-lived worker's log stays bounded by its retention", async () => {
    let now = Date.parse('2026-06-01T00:00:00.000Z');
    const runtime = await Runtime.open({
      runtime_id: 'rt',
      store: createFsStore({ data_dir: temp.dir }),
      clock: () => now,
      // 100 inputs' worth of retention (the clock moves 100 ms per input).
      retention: { idempotency_ttl_ms: 10_000, sweep_interval_ms: 5 },
    });
    await runtime.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    const INPUTS = 1_000;
    for (let i = 0; i < INPUTS; i++) {
      await runtime.sendInput('w', { kind: 'system', content: `c${i}`, idempotency_key: `k${i}` });
      now += 100;
      // Lets the sweep's timer run now and then.
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const replay = await runtime.sendInput('w', {
      kind: 'system',
      content: `c${INPUTS - 1}`,
      idempotency_key: `k${INPUTS - 1}`,
    });
    expect(replay.replayed).toBe(true);
    await runtime.close();
    // The live keys are the last 100; the log keeps at most about twice that.
    const lines = (await keysOnDisk('w')).length;
    expect(lines).toBeGreaterThanOrEqual(100);
    expect(lines).toBeLessThan(300);
  });

  test('a cutoff from a clock that ran ahead does not hide records made once it is back, also after a restart', async () => {
    const store = await seeded(['w'], 3);
    // The clock jumped a day ahead for one sweep: every record then made is expired (and dropped).
    await store.expireIdempotency?.(at(24 * 60));
    await expectKeys(store, 'w', [], [0, 1, 2]);
    // Back on time: a new record, then a sweep whose cutoff is before it.
    await store.commit([{ type: 'idempotency', record: record('w', 10) }]);
    await store.expireIdempotency?.(at(5));
    await expectKeys(store, 'w', [10], [0, 1, 2]);
    await store.close();
    const again = await openStore();
    await expectKeys(again, 'w', [10], [0, 1, 2]);
    await again.close();
  });

  test('on a worker whose idempotency log was damaged, an expired key whose record was lost is a new input', async () => {
    let now = Date.parse('2026-06-01T00:00:00.000Z');
    const open = () =>
      Runtime.open({
        runtime_id: 'rt',
        store: createFsStore({ data_dir: temp.dir }),
        clock: () => now,
        retention: { idempotency_ttl_ms: 10_000, sweep_interval_ms: 5 },
      });
    const first = await open();
    await first.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    await first.sendInput('w', { kind: 'system', content: 'old', idempotency_key: 'k' });
    await first.close();
    // Tears the log: the record of k is lost, the worker is marked damaged.
    await truncate(log('w'), (await stat(log('w'))).size - 3);
    now += 60_000;
    const again = await open();
    // Lets the sweep run: it records the cutoff (a damaged log is never rewritten).
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ack = await again.sendInput('w', { kind: 'system', content: 'new', idempotency_key: 'k' });
    expect(ack.replayed).toBe(false);
    // A key used within the retention still cannot run twice.
    await again.close();
    await truncate(log('w'), (await stat(log('w'))).size - 3);
    const third = await open();
    await expect(
      third.sendInput('w', { kind: 'system', content: 'again', idempotency_key: 'k' }),
    ).rejects.toMatchObject({ code: 'idempotency_conflict' });
    await third.close();
  });

  test('records without created_at are kept, as by the other stores', async () => {
    const store = await seeded(['w'], 3);
    const { created_at: _, ...untimed } = record('w', 3);
    await store.commit([{ type: 'idempotency', record: untimed }]);
    await store.expireIdempotency?.(at(100));
    expect(await keysOnDisk('w')).toEqual(['k3']);
    expect(await store.getIdempotency('w', 'k3')).toEqual(untimed);
    await store.close();
  });
});

/** The real file system, failing the `fail_at`-th write, fsync, truncate, rename or unlink after `arm()`. */
function failingFs(): FsLike & { arm: (fail_at: number) => void; disarm: () => void; hit: () => boolean } {
  let countdown = Number.POSITIVE_INFINITY;
  let hit = false;
  const step = () => {
    if (--countdown !== 0) return;
    hit = true;
    throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
  };
  const wrap =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      step();
      return call(...args);
    };
  return {
    ...nodeFs,
    write: wrap(nodeFs.write),
    fsync: wrap(nodeFs.fsync),
    fdatasync: wrap(nodeFs.fdatasync),
    ftruncate: wrap(nodeFs.ftruncate),
    rename: wrap(nodeFs.rename),
    unlink: wrap(nodeFs.unlink),
    arm: (fail_at) => {
      countdown = fail_at;
    },
    disarm: () => {
      countdown = Number.POSITIVE_INFINITY;
    },
    hit: () => hit,
  };
}

describe('a failure at any step of a rewrite loses no live record', () => {
  const live = async (store: RuntimeStore, extra: number[]) => {
    for (const id of ['a', 'b']) {
      await expectKeys(store, id, id === 'a' ? [3, 4, 5, ...extra] : [3, 4, 5], []);
      // An expired record is either gone or whole.
      for (const n of [0, 1, 2]) {
        expect([null, record(id, n)]).toContainEqual(await store.getIdempotency(id, `k${n}`));
      }
    }
  };
  const damage = (seen: readonly Diagnostic[]) => seen.filter((d) => d.severity !== 'info').map((d) => d.code);

  for (const after of ['at once', 'going on'] as const) {
    const then = after === 'at once' ? 'a crash' : 'more writes and a crash';
    test(`each write, fsync, rename of the expiry in turn fails, then ${then}`, async () => {
      let steps = 0;
      for (let fail_at = 1; ; fail_at++) {
        const fs = failingFs();
        const store = await seeded(['a', 'b'], 6, fs);
        fs.arm(fail_at);
        await store.expireIdempotency?.(at(3)).catch(() => undefined);
        fs.disarm();
        const seen: Diagnostic[] = [];
        let extra: number[] = [];
        if (after === 'going on') {
          // Expired keys read as absent; the store goes on unless the journal or checkpoint failed.
          await expectKeys(store, 'a', [3, 4, 5], [0, 1, 2]);
          const wrote = await store.commit([{ type: 'idempotency', record: record('a', 6) }]).then(
            () => true,
            () => false,
          );
          if (wrote) extra = [6];
          await live(store, extra);
        }
        // Then the instance is abandoned as it is (never closed): the next one takes over its lock.
        await rm(join(temp.dir, 'runtimes', 'rt', 'LOCK'));
        const again = await openStore(nodeFs, seen);
        // No damage is reported: the log always matches its snapshot.
        expect(damage(seen)).toEqual([]);
        await live(again, extra);
        // Appends after the reopen land after the log's real end.
        await again.commit([{ type: 'idempotency', record: record('a', 7) }]);
        await again.close();
        const third = await openStore(nodeFs, seen);
        await live(third, [...extra, 7]);
        await third.close();
        expect(damage(seen)).toEqual([]);
        await nodeFs.removeTree(temp.dir);
        if (!fs.hit()) break;
        steps++;
      }
      // The expiry's journal append and checkpoint, then per worker: new log, snapshot, rename.
      expect(steps).toBeGreaterThan(10);
    }, 120_000);
  }
});
