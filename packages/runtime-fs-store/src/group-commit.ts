interface Waiter<T> {
  batch: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: batches that arrive while a flush is running wait and are flushed together by the
 * next one (one journal write, one fsync). Batches are flushed, and their promises settled, in the
 * order `enqueue` was called.
 */
export class GroupCommit<T> {
  readonly #flush: (group: readonly T[]) => Promise<void>;
  #waiting: Waiter<T>[] = [];
  #running: Promise<void> | null = null;

  /** `flush` makes a whole group durable and visible, or throws. */
  constructor(flush: (group: readonly T[]) => Promise<void>) {
    this.#flush = flush;
  }

  /** Resolves once the batch's group was flushed. */
  enqueue(batch: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ batch, resolve, reject });
      this.#running ??= this.#drain();
    });
  }

  /** Resolves when nothing is waiting or being flushed. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    // Let batches committed in the same tick join the first group.
    await Promise.resolve();
    while (this.#waiting.length > 0) {
      const group = this.#waiting;
      this.#waiting = [];
      try {
        await this.#flush(group.map((waiter) => waiter.batch));
        for (const waiter of group) waiter.resolve();
      } catch (error) {
        for (const waiter of group) waiter.reject(error);
      }
    }
    this.#running = null;
  }
}

/** A promise and the function that resolves it (the store's "next group is readable" signal). */
export function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
