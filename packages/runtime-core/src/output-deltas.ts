import type { WorkerRef } from './schemas/common.js';

/** A piece of an assistant entry being produced (SPEC §12): not durable, never an event. */
export interface OutputDelta {
  worker_ref: WorkerRef;
  run_id: string;
  /** 0, 1, … within the run: which assistant entry this piece belongs to. */
  entry: number;
  /** Characters of that entry already streamed before `content`. */
  offset: number;
  content: string;
}

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
