import type { OutputDelta } from './schemas/stream.js';

export type { OutputDelta } from './schemas/stream.js';

/** Listener for output deltas, in the order engines report them. */
export type OutputDeltaListener = (delta: OutputDelta) => void;

/**
 * The in-process channel output deltas travel on, from the run executor to whoever watches (the
 * live streams build on it). Delivery is synchronous and best effort: a failing listener is skipped.
 */
export class OutputDeltas {
  readonly #listeners = new Set<OutputDeltaListener>();

  /** Calls `listener` with every delta from now on. Returns an unsubscribe function. */
  subscribe(listener: OutputDeltaListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  publish(delta: OutputDelta): void {
    for (const listener of this.#listeners) {
      try {
        listener(delta);
      } catch {
        // A listener's failure is its own; the run goes on.
      }
    }
  }
}
