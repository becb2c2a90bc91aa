import * as v from 'valibot';
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
