import type { Notifier, WakeFilter, Watch } from './notifier.js';

/** One look at what a long-poll waits for: `done` answers at once, otherwise it waits for a change. */
export interface PollAttempt<T> {
  done: boolean;
  value: T;
}

/** With `key` (a worker's state) only changes naming it wake the loop, and of those only the ones `wakes` lets through. */
export interface PollKey<C> {
  key: object;
  wakes?: WakeFilter<C>;
}

/**
 * The one waiting loop every long-poll uses: tries, and while the attempt is not `done` waits for
 * the next change (or the end of `wait_ms`, or the Runtime closing), then tries again. Answers the
 * last attempt's value when time runs out. With `key` only the changes it names wake the loop (see
 * {@link Notifier.watch}). An attempt may answer synchronously (no promise): most look at memory.
 */
export async function longPoll<T, C extends { readonly state: object }>(
  changes: Notifier<C>,
  wait_ms: number,
  attempt: () => PollAttempt<T> | Promise<PollAttempt<T>>,
  key?: PollKey<C>,
): Promise<T> {
  // The clock is read once the first attempt did not answer at once (a read is ~150 ns on this VM,
  // and most polls answer or wait from memory): before its await, or after a synchronous look.
  let deadline = Number.NaN;
  let watch: Watch | null = null;
  try {
    for (;;) {
      // Read before looking: a change committed while `attempt` awaits must not be slept through.
      const seen = changes.version;
      const attempted = attempt();
      let result: PollAttempt<T>;
      if (attempted instanceof Promise) {
        if (Number.isNaN(deadline)) deadline = Date.now() + wait_ms;
        result = await attempted;
      } else result = attempted;
      const { done, value } = result;
      if (done) return value;
      let remaining: number;
      if (Number.isNaN(deadline)) {
        deadline = Date.now() + wait_ms;
        remaining = wait_ms;
      } else remaining = deadline - Date.now();
      if (remaining <= 0 || changes.closed) return value;
      if (key === undefined) await changes.wait(remaining, seen);
      else {
        watch ??= changes.watch(key.key, remaining, seen, key.wakes);
        await watch.next();
      }
    }
  } finally {
    watch?.end();
  }
}
