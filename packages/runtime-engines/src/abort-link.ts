/**
 * An AbortController that also aborts (with the same reason) when `parent` does, and `unlink()` to
 * stop listening. Used instead of `AbortSignal.any`, whose combined signal Node 20 may garbage
 * collect while a request still waits on it, so an abort would never arrive.
 */
export function linkedController(parent: AbortSignal): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return { controller, unlink: () => parent.removeEventListener('abort', onAbort) };
}
