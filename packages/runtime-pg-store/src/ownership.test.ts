import { generateId, Runtime, type RuntimeError, type StoreOpenRequest } from '@worker-runtime/core';
import { createGateEngine } from '@worker-runtime/core/testing';
import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import { locateRuntime } from './locate-runtime.js';
import { createPgStore, type PgStore, type PgStoreOptions } from './pg-store.js';
import { databaseUrl, dropSchema, freshSchema } from './test-support/pg-fixture.js';

const request = (runtime_id: string): StoreOpenRequest => ({
  runtime_id,
  generate_id: generateId,
  now: new Date().toISOString(),
  max_diagnostics: 1000,
  max_retained_events: 100_000,
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(): { schema: string; store(options?: Partial<PgStoreOptions>): PgStore; sql: pg.Pool } {
  const schema = freshSchema();
  const sql = new pg.Pool({ connectionString: databaseUrl(), max: 2 });
  cleanups.push(async () => {
    await sql.end();
    await dropSchema(schema);
  });
  return {
    schema,
    sql,
    store(options = {}) {
      const store = createPgStore({ connection_string: databaseUrl(), schema, ...options } as PgStoreOptions);
      cleanups.push(() => store.close());
      return store;
    },
  };
}

/** Makes a lease look expired, as if its holder had been paused or killed past it. */
async function expireLease(sql: pg.Pool, schema: string, runtime_id: string): Promise<void> {
  await sql.query(`UPDATE "${schema}".leases SET expires_at = now() - interval '1 second' WHERE runtime_id = $1`, [
    runtime_id,
  ]);
}

const create = { intent: { kind: 'assistant' as const }, profile: { kind: 'runtime_default' as const } };

describe('ownership of a runtime', () => {
  test('a live lease makes a second open fail store_locked with the holder advertise_url', async () => {
    const { store } = setup();
    await store({ advertise_url: 'http://10.0.0.1:7420' }).open(request('rt'));
    const error = await store({ advertise_url: 'http://10.0.0.2:7420' })
      .open(request('rt'))
      .catch((e: RuntimeError) => e);
    expect(error).toMatchObject({ code: 'store_locked', details: { advertise_url: 'http://10.0.0.1:7420' } });
  });

  test('locateRuntime reports the owner, its epoch and lease; null for an unknown runtime', async () => {
    const { schema, store } = setup();
    const connection_string = databaseUrl();
    expect(await locateRuntime({ connection_string, schema, runtime_id: 'rt' })).toBeNull();
    const first = store({ advertise_url: 'http://a:1' });
    await first.open(request('rt'));
    const owned = await locateRuntime({ connection_string, schema, runtime_id: 'rt' });
    expect(owned).toMatchObject({ runtime_id: 'rt', advertise_url: 'http://a:1', epoch: 1 });
    expect(Date.parse(owned?.lease_expires_at ?? '')).toBeGreaterThan(Date.now() - 1000);
    await first.close();
    const released = await locateRuntime({ connection_string, schema, runtime_id: 'rt' });
    expect(Date.parse(released?.lease_expires_at ?? '')).toBeLessThanOrEqual(Date.now() + 1000);
    await store({ advertise_url: 'http://b:2' }).open(request('rt'));
    expect(await locateRuntime({ connection_string, schema, runtime_id: 'rt' })).toMatchObject({
      advertise_url: 'http://b:2',
      epoch: 2,
    });
  });

  test('a released lease is reopened without a takeover diagnostic; an expired one with one', async () => {
    const { schema, store, sql } = setup();
    const first = store({ advertise_url: 'http://a:1' });
    await first.open(request('rt'));
    await first.close();
    expect((await store().open(request('rt'))).recovery_diagnostics).toEqual([]);
    await expireLease(sql, schema, 'rt');
    const snapshot = await store({ lease_ms: 60_000 }).open(request('rt'));
    expect(snapshot.recovery_diagnostics).toEqual([
      expect.objectContaining({ code: 'store_lease_taken_over', severity: 'warning' }),
    ]);
  });

  test('a stale owner cannot write once another process took the lease over', async () => {
    const { schema, store, sql } = setup();
    const stale = store({ lease_ms: 60_000 });
    await stale.open(request('rt'));
    await expireLease(sql, schema, 'rt');
    await store().open(request('rt'));
    const diagnostic = { id: 'd-stale', severity: 'info' as const, code: 'x', message: 'x', created_at: 'now' };
    await expect(stale.commit([{ type: 'diagnostic', diagnostic }])).rejects.toMatchObject({
      code: 'store_unavailable',
    });
    // Once failed, it stays failed, and nothing of it reached the database.
    await expect(stale.commit([])).rejects.toMatchObject({ code: 'store_unavailable' });
    const { rows } = await sql.query(`SELECT count(*)::int AS n FROM "${schema}".diagnostics`);
    expect(rows[0].n).toBe(0);
  });

  test('an owner whose lease was taken over learns it from its renewals and stops', async () => {
    const { schema, store, sql } = setup();
    const lost: RuntimeError[] = [];
    const owner = store({ lease_ms: 300, on_lease_lost: (error) => lost.push(error) });
    await owner.open(request('rt'));
    // A takeover behind the owner's back: bump the epoch as a new owner would.
    await sql.query(`UPDATE "${schema}".leases SET epoch = epoch + 1 WHERE runtime_id = 'rt'`);
    await expect.poll(() => lost.length, { timeout: 5000 }).toBe(1);
    expect(lost[0]).toMatchObject({ code: 'store_unavailable' });
    await expect(owner.commit([])).rejects.toMatchObject({ code: 'store_unavailable' });
  });

  test('a takeover recovers the runtime: the running run is interrupted, the queue resumes, the old owner is fenced', async () => {
    const { schema, store, sql } = setup();
    const gate = createGateEngine({ ignoreAbort: true });
    const profiles = { gated: { engine: 'gate' } };
    const old = await Runtime.open({ runtime_id: 'rt', store: store({ lease_ms: 60_000 }), engines: [gate], profiles });
    cleanups.push(() => old.close());
    await old.createWorker({ ...create, worker_id: 'w', profile: { kind: 'named', value: 'gated' } });
    const running = await old.sendInput('w', { kind: 'user', content: 'one' });
    const queued = await old.sendInput('w', { kind: 'user', content: 'two', on_busy: 'enqueue' });
    const stuck = await gate.started(0);

    await expireLease(sql, schema, 'rt');
    const gate2 = createGateEngine();
    const next = await Runtime.open({ runtime_id: 'rt', store: store(), engines: [gate2], profiles });
    cleanups.push(() => next.close());
    expect(await next.getRun('w', running.run_id as string)).toMatchObject({ status: 'interrupted' });
    (await gate2.started(0)).release();
    expect(await next.getRun('w', queued.run_id as string, { wait_ms: 5000 })).toMatchObject({ status: 'completed' });
    expect((await next.diagnostics()).map((d) => d.code)).toContain('store_lease_taken_over');

    // The old owner's run wakes up and writes: the write is refused and never lands.
    stuck.release();
    await expect.poll(() => old.storeFailure?.code, { timeout: 5000 }).toBe('store_unavailable');
    await expect(old.sendInput('w', { kind: 'system', content: 'late' })).rejects.toMatchObject({
      code: 'store_unavailable',
    });
    const contents = (await next.transcript('w')).items.map((e) => e.content);
    expect(contents).toEqual(['one', 'two', 'reply:two']);
  });

  test('several processes opening a new schema at once migrate it once', async () => {
    const { schema, store, sql } = setup();
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => store().open(request(id))));
    const { rows } = await sql.query(`SELECT version FROM "${schema}".migrations ORDER BY version`);
    expect(rows.map((r) => r.version)).toEqual([1]);
  });

  test('a schema migrated by a newer version is refused rather than written with an older layout', async () => {
    const { schema, store, sql } = setup();
    const first = store();
    await first.open(request('rt'));
    await first.close();
    await sql.query(`INSERT INTO "${schema}".migrations (version) VALUES (999)`);
    await expect(store().open(request('rt'))).rejects.toMatchObject({
      code: 'store_unavailable',
      message: expect.stringContaining('version 999'),
    });
  });

  test('two first opens of one runtime at once: one owns it, the other gets store_locked', async () => {
    const { store } = setup();
    const results = await Promise.allSettled([store().open(request('rt')), store().open(request('rt'))]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'store_locked' });
  });

  test('connection errors never show the password of the connection string', async () => {
    const { schema } = setup();
    const url = 'postgres://someone:s3cret-pw@127.0.0.1:1/nowhere';
    const error = (await createPgStore({ connection_string: url, schema })
      .open(request('rt'))
      .catch((e: RuntimeError) => e)) as RuntimeError;
    expect(error).toMatchObject({ code: 'store_unavailable' });
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('s3cret-pw');
    const located = await locateRuntime({ connection_string: url, runtime_id: 'rt' }).catch((e: RuntimeError) => e);
    expect(located).toMatchObject({ code: 'store_unavailable' });
    expect(String((located as RuntimeError).message)).not.toContain('s3cret-pw');
  });
});
