import type { EngineRun, WorkerEngine } from './engine.js';
import { MAX_TIMER_MS } from './schemas/common.js';

/** Options of the `echo` engine, read from the profile. */
export interface EchoOptions {
  /** Put before the echoed content (default `"echo: "`). */
  prefix?: string;
  /** Wait this long before replying (default 0); honours abort. */
  delay_ms?: number;
  /** Stream the reply word by word, this long between words (default 0: the whole reply at once). */
  stream_chunk_ms?: number;
}

function positiveMs(value: unknown): number {
  return typeof value === 'number' && value > 0 ? Math.min(value, MAX_TIMER_MS) : 0;
}

/** Reports `reply` as output deltas, one word (with the whitespace after it) at a time. */
async function streamWords(run: EngineRun, reply: string, chunk_ms: number): Promise<void> {
  const words = reply.match(/\S+\s*|\s+/g) ?? [];
  for (const [index, word] of words.entries()) {
    if (index > 0) await sleep(chunk_ms, run.signal);
    run.delta(word);
  }
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
 * The deterministic engine for tests and demos: replies `prefix + content`, streamed word by word
 * when the profile sets `stream_chunk_ms`.
 * It backs the `runtime_default` profile when nothing else is configured.
 */
export function createEchoEngine(): WorkerEngine {
  return {
    name: 'echo',
    capabilities: [],
    async run(run: EngineRun): Promise<void> {
      const options = run.worker.profile as EchoOptions;
      const prefix = typeof options.prefix === 'string' ? options.prefix : 'echo: ';
      const delay = positiveMs(options.delay_ms);
      if (delay > 0) await sleep(delay, run.signal);
      const reply = `${prefix}${run.input}`;
      const chunk_ms = positiveMs(options.stream_chunk_ms);
      if (chunk_ms > 0) await streamWords(run, reply, chunk_ms);
      await run.append({ role: 'assistant', content: reply });
    },
  };
}
