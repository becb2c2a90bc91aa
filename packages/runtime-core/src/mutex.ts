/** `#waiting` of a mutex that is held with nobody waiting (shared: never pushed to). */
const HELD: readonly (() => void)[] = Object.freeze([]);

/**
 * A FIFO async mutex: `run(fn)` runs `fn` (in a microtask) once every earlier holder has finished.
 * An idle mutex holds one null field (there is one per worker, and most workers are idle), and a
 * turn costs one promise besides `fn`'s: workers take their lock several times per input.
 */
export class Mutex {
  /** Null while free; else the holders waiting their turn, oldest first. */
  #waiting: (() => void)[] | readonly (() => void)[] | null = null;

  run<T>(fn: () => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const enter = (): void => {
        let result: Promise<T> | T;
        try {
          result = fn();
        } catch (error) {
          reject(error);
          Mutex.#leave(this);
          return;
        }
        // Settled before the next holder is let in, so the caller resumes before it runs.
        Promise.resolve(result).then(
          (value) => {
            resolve(value);
            Mutex.#leave(this);
          },
          (error: unknown) => {
            reject(error);
            Mutex.#leave(this);
          },
        );
      };
      const waiting = this.#waiting;
      if (waiting === null) {
        this.#waiting = HELD;
        queueMicrotask(enter);
      } else if (waiting === HELD) this.#waiting = [enter];
      else (waiting as (() => void)[]).push(enter);
    });
  }

  // Static: a private instance method would give every instance a brand slot (8 B per worker).
  static #leave(mutex: Mutex): void {
    const waiting = mutex.#waiting;
    if (waiting === HELD || waiting === null) {
      mutex.#waiting = null;
      return;
    }
    const next = (waiting as (() => void)[]).shift() as () => void;
    if (waiting.length === 0) mutex.#waiting = HELD;
    queueMicrotask(next);
  }
}
