import type { RuntimeStore } from '../store.js';

/**
 * One isolated store state for a conformance case. `open()` returns a store instance over that
 * state; calling it again after the previous instance was closed simulates a process restart.
 */
export interface StoreFixture {
  open(): RuntimeStore;
  cleanup(): Promise<void>;
}
