import type { Diagnostic, Runtime } from '@worker-runtime/core';
import type { Logger } from './logger.js';

const LEVELS = { info: 'info', warning: 'warn', error: 'error' } as const;

/** Options of {@link logStoreDiagnostics}. */
export interface DiagnosticLogOptions {
  runtime: Pick<Runtime, 'subscribe' | 'diagnostics'>;
  logger: Logger;
  /** When the Runtime began opening (ISO-8601): diagnostics its store raised while opening are logged too. */
  openedAt: string;
}

/**
 * Logs each store diagnostic (codes `store_*`: torn tail repaired, stale lock taken over, corrupt
 * record skipped, …) as one line at its severity with `code`, `diagnostic_id` and `worker_id`:
 * those raised while the Runtime opened, then each one as its `diagnostic_recorded` event commits.
 * The Runtime's own notes stay in `GET /v1/diagnostics` only. Returns the unsubscribe function.
 */
export function logStoreDiagnostics({ runtime, logger, openedAt }: DiagnosticLogOptions): () => void {
  const logged = new Set<string>();
  function write(diagnostic: Diagnostic): void {
    if (!diagnostic.code.startsWith('store_') || logged.has(diagnostic.id)) return;
    logged.add(diagnostic.id);
    logger.log(LEVELS[diagnostic.severity], diagnostic.message, {
      code: diagnostic.code,
      diagnostic_id: diagnostic.id,
      worker_id: diagnostic.worker_ref?.worker_id,
    });
  }
  // The event names the diagnostic; its message is read from the Runtime's (in-memory) list.
  const unsubscribe = runtime.subscribe((event) => {
    const id = event.kind === 'diagnostic_recorded' ? event.data?.diagnostic_id : undefined;
    if (typeof id !== 'string') return;
    void runtime.diagnostics().then((list) => {
      const found = list.find((diagnostic) => diagnostic.id === id);
      if (found) write(found);
    });
  });
  // Subscribed first, so none is missed; `logged` keeps one from being written twice.
  void runtime.diagnostics().then((list) => {
    for (const diagnostic of list) if (diagnostic.created_at >= openedAt) write(diagnostic);
  });
  return unsubscribe;
}
