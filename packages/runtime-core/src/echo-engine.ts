import type { EngineRun, WorkerEngine } from './engine.js';
import { MAX_TIMER_MS } from './schemas/common.js';

/** Options of the `echo` engine, read from the profile. */
export interface EchoOptions {
  /** Put before the echoed content (default `"echo: "`). */
  prefix?: string;
  /** Wait this long before replying (default 0); honours abort. */
  delay_ms?: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The deterministic engine for tests and demos: replies `prefix + content`.
 * It backs the `runtime_default` profile when nothing else is configured.
 */
export function createEchoEngine(): WorkerEngine {
  return {
    name: 'echo',
    capabilities: [],
    async run(run: EngineRun): Promise<void> {
      const options = run.worker.profile as EchoOptions;
      const prefix = typeof options.prefix === 'string' ? options.prefix : 'echo: ';
      const delay =
        typeof options.delay_ms === 'number' && options.delay_ms > 0 ? Math.min(options.delay_ms, MAX_TIMER_MS) : 0;
      if (delay > 0) await sleep(delay, run.signal);
      await run.append({ role: 'assistant', content: `${prefix}${run.input}` });
    },
  };
}
