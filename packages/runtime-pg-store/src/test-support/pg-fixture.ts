import { randomBytes } from 'node:crypto';
import type { StoreFixture } from '@worker-runtime/core/testing';
import pg from 'pg';
import { inject } from 'vitest';
import { createPgStore, type PgStore, type PgStoreOptions } from '../pg-store.js';

/** The URL of the tests' PostgreSQL. */
export function databaseUrl(): string {
  return inject('databaseUrl');
}

/** A fresh schema name, so every case starts from an empty database of its own. */
export function freshSchema(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * A conformance fixture: each case gets its own schema; every `open()` is a new store instance over
 * it (a restart). Cleanup closes whatever instances are still open, then drops the schema.
 */
export async function pgFixture(options: Partial<PgStoreOptions> = {}): Promise<StoreFixture> {
  const schema = freshSchema();
  const opened: PgStore[] = [];
  return {
    open: () => {
      const store = createPgStore({
        connection_string: databaseUrl(),
        schema,
        lease_ms: 2000,
        ...options,
      } as PgStoreOptions);
      opened.push(store);
      return store;
    },
    async cleanup() {
      for (const store of opened.splice(0)) await store.close();
      await dropSchema(schema);
    },
  };
}
