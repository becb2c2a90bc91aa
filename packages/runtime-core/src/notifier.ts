/**
 * Wakes long-polls. `wait(ms)` resolves on the next `notify()`, after `ms`, or at `close()`,
 * whichever comes first; callers re-check their condition after waking.
 */
export class Notifier {
  #waiters = new Set<() => void>();
  #closed = false;

  wait(ms: number): Promise<void> {
    if (this.#closed || ms <= 0) return Promise.resolve();
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
