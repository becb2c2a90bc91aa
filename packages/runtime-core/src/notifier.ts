/** A watch on one key, for one long-poll: {@link Notifier.watch}. */
export interface Watch {
  /** Resolves at once if the key was notified since the last call, else on its next notify, the deadline or close. */
  next(): Promise<void>;
  /** Stops watching (always call it). */
  end(): void;
}

/** Which of the notifies naming a watch's key wake it (all of them when absent). */
export type WakeFilter<C> = (change: C) => boolean;

const DONE: Promise<void> = Promise.resolve();

/** What a keyed wait is woken by: a notify naming its key (that its filter lets through), its deadline, or `close()`. */
class KeyedWatch<C> implements Watch {
  /** A notify named the key since the last wake-up (or since the version the watch began from). */
  pending: boolean;
  expired: boolean;
  wake: (() => void) | null = null;
  timer: NodeJS.Timeout | null;
  readonly key: object;
  readonly wakes: WakeFilter<C> | undefined;
  readonly #release: (watch: KeyedWatch<C>) => void;

  constructor(
    key: object,
    state: { pending: boolean; expired: boolean; ms: number; wakes: WakeFilter<C> | undefined },
    release: (watch: KeyedWatch<C>) => void,
  ) {
    this.key = key;
    this.pending = state.pending;
    this.expired = state.expired;
    this.wakes = state.wakes;
    this.#release = release;
    this.timer = setTimeout(() => this.expire(), state.ms);
  }

  next(): Promise<void> {
    if (this.pending || this.expired) {
      this.pending = false;
      return DONE;
    }
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
    });
  }

  end(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.#release(this);
  }

  notified(): void {
    if (this.wake) this.wake();
    else this.pending = true;
  }

  expire(): void {
    this.expired = true;
    this.wake?.();
  }
}

/**
 * Wakes long-polls. `wait(ms, since)` resolves on the next `notify()`, after `ms`, or at `close()`,
 * whichever comes first; callers re-check their condition after waking. With `since` (a
 * {@link Notifier.version} read before the caller looked), a notify that came in between wakes
 * the wait at once, so no change is missed while the caller was looking.
 *
 * A {@link Notifier.watch} waits for one key only (a worker's state): it is woken by the notifies
 * that name that key, so a commit wakes the long-polls of the workers it changed, not all of them.
 */
export class Notifier<C extends { readonly state: object } = { readonly state: object }> {
  #waiters = new Set<() => void>();
  /** Watches by key: the watch, or a set of them when several watch one key (most keys have one). */
  readonly #keyed = new Map<object, KeyedWatch<C> | Set<KeyedWatch<C>>>();
  readonly #release = (watch: KeyedWatch<C>): void => {
    const watching = this.#keyed.get(watch.key);
    if (watching === watch) this.#keyed.delete(watch.key);
    else if (watching instanceof Set) {
      watching.delete(watch);
      if (watching.size === 1) this.#keyed.set(watch.key, watching.values().next().value as KeyedWatch<C>);
    }
  };
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
   * caller first looked: any notify after it counts as pending (it may have named the key). With
   * `wakes`, only the notifies naming the key that it lets through wake the watch.
   */
  watch(key: object, ms: number, since: number, wakes?: WakeFilter<C>): Watch {
    const watch = new KeyedWatch<C>(
      key,
      { pending: since !== this.#version, expired: this.#closed, ms, wakes },
      this.#release,
    );
    const watching = this.#keyed.get(key);
    if (watching === undefined) this.#keyed.set(key, watch);
    else if (watching instanceof Set) watching.add(watch);
    else this.#keyed.set(key, new Set([watching, watch]));
    return watch;
  }

  /** Wakes every `wait`, and the watches of the keys `changes` name (each change's `state`). */
  notify(changes: readonly C[] = []): void {
    this.#version++;
    if (this.#waiters.size > 0) for (const wake of [...this.#waiters]) wake();
    if (this.#keyed.size === 0) return;
    for (const change of changes) {
      const watching = this.#keyed.get(change.state);
      if (watching === undefined) continue;
      if (watching instanceof Set) {
        for (const watch of watching) if (watch.wakes === undefined || watch.wakes(change)) watch.notified();
      } else if (watching.wakes === undefined || watching.wakes(change)) watching.notified();
    }
  }

  /** Wakes every waiter and makes later waits return at once. */
  close(): void {
    this.#closed = true;
    this.notify();
    for (const watching of this.#keyed.values()) {
      if (watching instanceof Set) for (const watch of watching) watch.expire();
      else watching.expire();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }
}
