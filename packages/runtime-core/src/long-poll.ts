import type { Notifier } from './notifier.js';

/** One look at what a long-poll waits for: `done` answers at once, otherwise it waits for a change. */
export interface PollAttempt<T> {
  done: boolean;
  value: T;
}

/**
 * The one waiting loop every long-poll uses: tries, and while the attempt is not `done` waits for
 * the next change (or the end of `wait_ms`, or the Runtime closing), then tries again. Answers the
 * last attempt's value when time runs out.
 */
export async function longPoll<T>(
  changes: Notifier,
  wait_ms: number,
  attempt: () => Promise<PollAttempt<T>>,
): Promise<T> {
  const deadline = Date.now() + wait_ms;
  for (;;) {
    // Read before looking: a change committed while `attempt` awaits must not be slept through.
    const seen = changes.version;
    const { done, value } = await attempt();
    const remaining = deadline - Date.now();
    if (done || remaining <= 0 || changes.closed) return value;
    await changes.wait(remaining, seen);
  }
}
