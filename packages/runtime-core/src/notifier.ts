/** What a keyed wait is woken by: a notify naming its key, its deadline, or `close()`. */
interface KeyedWatch {
  /** A notify named the key since the last wake-up (or since the version the watch began from). */
  pending: boolean;
  expired: boolean;
  wake: (() => void) | null;
  timer: NodeJS.Timeout | null;
}

/** A watch on one key, for one long-poll: {@link Notifier.watch}. */
export interface Watch {
  /** Resolves at once if the key was notified since the last call, else on its next notify, the deadline or close. */
  next(): Promise<void>;
  /** Stops watching (always call it). */
  end(): void;
}

const DONE: Promise<void> = Promise.resolve();

/**
 * Wakes long-polls. `wait(ms, since)` resolves on the next `notify()`, after `ms`, or at `close()`,
 * whichever comes first; callers re-check their condition after waking. With `since` (a
 * {@link Notifier.version} read before the caller looked), a notify that came in between wakes
 * the wait at once, so no change is missed while the caller was looking.
 *
 * A {@link Notifier.watch} waits for one key only (a worker's state): it is woken by the notifies
 * that name that key, so a commit wakes the long-polls of the workers it changed, not all of them.
 */
export class Notifier {
  #waiters = new Set<() => void>();
  readonly #keyed = new Map<object, Set<KeyedWatch>>();
  #closed = false;
  #version = 0;

  /** Counts notifications. */
  get version(): number {
    return this.#version;
  }

  wait(ms: number, since: number = this.#version): Promise<void> {
    if (this.#closed || ms <= 0 || since !== this.#version) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#waiters.add(wake);
    });
  }

  /**
   * Starts watching `key` until `ms` from now. `since` is a {@link Notifier.version} read before the
   * caller first looked: any notify after it counts as pending (it may have named the key).
   */
  watch(key: object, ms: number, since: number): Watch {
    const watch: KeyedWatch = { pending: since !== this.#version, expired: this.#closed, wake: null, timer: null };
    let set = this.#keyed.get(key);
    if (!set) {
      set = new Set();
      this.#keyed.set(key, set);
    }
    set.add(watch);
    watch.timer = setTimeout(() => {
      watch.expired = true;
      watch.wake?.();
    }, ms);
    return {
      next: (): Promise<void> => {
        if (watch.pending || watch.expired) {
          watch.pending = false;
          return DONE;
        }
        return new Promise((resolve) => {
          watch.wake = () => {
            watch.wake = null;
            resolve();
          };
        });
      },
      end: (): void => {
        if (watch.timer) clearTimeout(watch.timer);
        watch.timer = null;
        const watching = this.#keyed.get(key);
        watching?.delete(watch);
        if (watching?.size === 0) this.#keyed.delete(key);
      },
    };
  }

  /** Wakes every `wait`, and the watches of the keys `changes` name (each change's `state`). */
  notify(changes: readonly { readonly state: object }[] = []): void {
    this.#version++;
    if (this.#waiters.size > 0) for (const wake of [...this.#waiters]) wake();
    if (this.#keyed.size === 0) return;
    for (const change of changes) {
      const watches = this.#keyed.get(change.state);
      if (watches) for (const watch of watches) wakeWatch(watch);
    }
  }

  /** Wakes every waiter and makes later waits return at once. */
  close(): void {
    this.#closed = true;
    this.notify();
    for (const watches of this.#keyed.values()) {
      for (const watch of watches) {
        watch.expired = true;
        watch.wake?.();
      }
    }
  }

  get closed(): boolean {
    return this.#closed;
  }
}

function wakeWatch(watch: KeyedWatch): void {
  if (watch.wake) watch.wake();
  else watch.pending = true;
}
