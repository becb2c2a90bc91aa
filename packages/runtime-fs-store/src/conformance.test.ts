import { describeRuntimeConformance, describeRuntimeStore, type StoreFixture } from '@worker-runtime/core/testing';
import { createFsStore } from './fs-store.js';
import { tempDir } from './test-support/temp-dir.js';

// Each case gets its own data dir; every `open()` is a new store instance over it (a restart).
async function fsFixture(): Promise<StoreFixture> {
  const { dir, cleanup } = await tempDir();
  return { open: () => createFsStore({ data_dir: dir }), cleanup };
}

// A tiny checkpoint threshold makes every case also exercise checkpoints and journal truncation.
async function checkpointingFixture(): Promise<StoreFixture> {
  const { dir, cleanup } = await tempDir();
  return { open: () => createFsStore({ data_dir: dir, checkpoint_bytes: 1 }), cleanup };
}

describeRuntimeStore('fs store', fsFixture);
describeRuntimeConformance('fs store', fsFixture);
describeRuntimeStore('fs store, checkpoint after every group', checkpointingFixture);
describeRuntimeConformance('fs store, checkpoint after every group', checkpointingFixture);
