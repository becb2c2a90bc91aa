import { MemoryStore } from './memory-store.js';
import { describeRuntimeConformance, describeRuntimeStore } from './testing/index.js';

function memoryFixture(): Promise<{ open(): MemoryStore; cleanup(): Promise<void> }> {
  // One instance is the whole "disk": reopening it after close() simulates a restart.
  const store = new MemoryStore();
  return Promise.resolve({ open: () => store, cleanup: async () => undefined });
}

describeRuntimeStore('memory', memoryFixture);
describeRuntimeConformance('memory', memoryFixture);
