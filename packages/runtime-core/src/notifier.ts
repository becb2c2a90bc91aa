/**
 * Wakes long-polls. `wait(ms, since)` resolves on the next `notify()`, after `ms`, or at `close()`,
 * whichever comes first; callers re-check their condition after waking. With `since` (a
 * {@link Notifier.version} read before the caller looked), a notify that came in between wakes
 * the wait at once, so no change is missed while the caller was looking.
 */
export class Notifier {
  #waiters = new Set<() => void>();
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

  notify(): void {
    this.#version++;
    for (const wake of [...this.#waiters]) wake();
  }

  /** Wakes every waiter and makes later waits return at once. */
  close(): void {
    this.#closed = true;
    this.notify();
  }

  get closed(): boolean {
    return this.#closed;
  }
}
