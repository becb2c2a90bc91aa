import { MemoryStore, Runtime } from '@worker-runtime/core';
import { afterEach, describe, expect, test } from 'vitest';
import { createLogger } from './logger.js';
import { logStoreFailure } from './store-failure-log.js';

/** A memory store whose writes can be made to fail like a full disk. */
class FullDiskStore extends MemoryStore {
  full = false;

  override async commit(records: Parameters<MemoryStore['commit']>[0]): Promise<void> {
    if (this.full) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    return super.commit(records);
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const create = { intent: { kind: 'assistant' as const }, profile: { kind: 'runtime_default' as const } };

describe('logStoreFailure', () => {
  test('logs one store_unavailable error line once the store fails, and only once', async () => {
    const store = new FullDiskStore();
    const runtime = await Runtime.open({ store });
    cleanups.push(() => runtime.close());
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    cleanups.push(logStoreFailure({ runtime, logger }));
    await runtime.createWorker(create);
    expect(lines).toEqual([]);

    store.full = true;
    await expect(runtime.createWorker(create)).rejects.toMatchObject({ code: 'store_unavailable' });
    await until(() => lines.length > 0);
    // Later failed writes add no second line.
    await expect(runtime.createWorker(create)).rejects.toMatchObject({ code: 'store_unavailable' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'store unavailable: the runtime accepts no changes until restarted',
        code: 'store_unavailable',
        reason: expect.any(String),
      }),
    ]);
  });
});

test('a listener added after the failure hears it once', async () => {
  const store = new FullDiskStore();
  const runtime = await Runtime.open({ store });
  cleanups.push(() => runtime.close());
  store.full = true;
  await expect(runtime.createWorker(create)).rejects.toMatchObject({ code: 'store_unavailable' });
  const lines: string[] = [];
  cleanups.push(logStoreFailure({ runtime, logger: createLogger({ write: (line) => lines.push(line) }) }));
  await until(() => lines.length > 0);
  expect(lines).toHaveLength(1);
});
