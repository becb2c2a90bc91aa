import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { RuntimeStore } from '../store.js';

/**
 * One isolated store state for a conformance case. `open()` returns a store instance over that
 * state; calling it again after the previous instance was closed simulates a process restart.
 */
export interface StoreFixture {
  open(): RuntimeStore;
  cleanup(): Promise<void>;
}

/**
 * Setup and teardown around a conformance suite, for stores that need a server (e.g. PostgreSQL):
 * start it in `beforeAll`, reset it in `beforeEach`, stop it in `afterAll`. Each runs inside the
 * suite's `describe`; a hook may return a promise.
 */
export interface SuiteHooks {
  beforeAll?: () => unknown;
  afterAll?: () => unknown;
  beforeEach?: () => unknown;
  afterEach?: () => unknown;
  /** Per-hook timeout in ms (vitest's default when absent). */
  timeout?: number;
}

/**
 * Registers `hooks` in the current `describe`. Called before the suite's own hooks, so a store's
 * `afterEach`/`afterAll` run after the suite closed its stores (vitest runs after-hooks in reverse).
 */
export function registerSuiteHooks(hooks: SuiteHooks): void {
  const { timeout } = hooks;
  const { beforeAll: setUp, afterAll: tearDown, beforeEach: setUpEach, afterEach: tearDownEach } = hooks;
  if (setUp) beforeAll(async () => void (await setUp()), timeout);
  if (tearDown) afterAll(async () => void (await tearDown()), timeout);
  if (setUpEach) beforeEach(async () => void (await setUpEach()), timeout);
  if (tearDownEach) afterEach(async () => void (await tearDownEach()), timeout);
}
