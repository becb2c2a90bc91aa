import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { MemoryStore } from './memory-store.js';
import { StoreRecordSchema } from './schemas/store.js';
import type { StoreRecord } from './store.js';
import { describeRuntimeConformance, describeRuntimeStore } from './testing/index.js';

/**
 * Checks every record the Runtime commits against the store record schema, so a record built wrong
 * in core fails here rather than on a persistent store's next open (which validates what it reads).
 */
class ValidatingMemoryStore extends MemoryStore {
  override async commit(records: readonly StoreRecord[]): Promise<void> {
    for (const record of records) v.parse(StoreRecordSchema, record);
    return super.commit(records);
  }
}

function memoryFixture(): Promise<{ open(): MemoryStore; cleanup(): Promise<void> }> {
  // One instance is the whole "disk": reopening it after close() simulates a restart.
  const store = new ValidatingMemoryStore();
  return Promise.resolve({ open: () => store, cleanup: async () => undefined });
}

describeRuntimeStore('memory', memoryFixture);
describeRuntimeConformance('memory', memoryFixture);

// The suites' setup/teardown hooks (for stores that need a server) run around the suite and each case.
const calls = { beforeAll: 0, afterAll: 0, beforeEach: 0, afterEach: 0 };
let openDuringCase = 0;
describeRuntimeStore(
  'memory, with suite hooks',
  async () => {
    openDuringCase += calls.beforeAll === 1 && calls.afterAll === 0 ? 1 : 0;
    return memoryFixture();
  },
  {
    beforeAll: async () => void calls.beforeAll++,
    afterAll: () => void calls.afterAll++,
    beforeEach: () => void calls.beforeEach++,
    afterEach: () => void calls.afterEach++,
  },
);
describe('conformance suite hooks', () => {
  test('ran once around the suite and around every case', () => {
    expect(calls.beforeAll).toBe(1);
    expect(calls.afterAll).toBe(1);
    expect(calls.beforeEach).toBeGreaterThan(5);
    expect(calls.afterEach).toBe(calls.beforeEach);
    expect(openDuringCase).toBeGreaterThanOrEqual(calls.beforeEach);
  });
});
