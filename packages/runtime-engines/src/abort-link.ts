/**
 * An AbortController that also aborts (with the same reason) when `parent` does, and `unlink()` to
 * stop listening. Used instead of `AbortSignal.any`: Node 20 holds a combined signal only weakly
 * from its sources, and with it an idle-timeout abort intermittently never reached a stalled
 * request on this machine; a plain listener cannot be lost.
 */
export function linkedController(parent: AbortSignal): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) onAbort();
  else parent.addEventListener('abort', onAbort, { once: true });
  return { controller, unlink: () => parent.removeEventListener('abort', onAbort) };
}
