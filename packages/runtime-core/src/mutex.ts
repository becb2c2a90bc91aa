const IDLE: Promise<void> = Promise.resolve();
const ignore = (): void => undefined;

/**
 * A FIFO async mutex: `run(fn)` runs `fn` once every earlier holder has finished. An idle mutex holds
 * no promise of its own (there is one per worker, and most workers are idle).
 */
export class Mutex {
  #tail: Promise<void> | null = null;

  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = (this.#tail ?? IDLE).then(fn);
    const tail = result.then(ignore, ignore);
    this.#tail = tail;
    void tail.then(() => {
      if (this.#tail === tail) this.#tail = null;
    });
    return result;
  }
}
