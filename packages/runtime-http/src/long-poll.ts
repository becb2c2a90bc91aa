/**
 * Runs a long-poll, but answers early when `signal` aborts (server shutdown): `waiting` is the
 * Runtime call with `wait_ms`, `now` the same call without waiting. The abandoned wait ends on its
 * own (at its deadline, the next change, or when the Runtime closes); its outcome is ignored.
 */
export async function longPoll<T>(
  signal: AbortSignal | undefined,
  waiting: () => Promise<T>,
  now: () => Promise<T>,
): Promise<T> {
  if (signal === undefined) return waiting();
  if (signal.aborted) return now();
  const pending = waiting();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const winner = await Promise.race([pending, aborted]);
    if (winner !== 'aborted') return winner as T;
    pending.catch(() => undefined);
    return await now();
  } finally {
    signal.removeEventListener('abort', onAbort as () => void);
  }
}
