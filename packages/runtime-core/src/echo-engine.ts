import * as v from 'valibot';
import type { EngineResult, EngineRun, WorkerEngine } from './engine.js';
import { durationMs } from './schemas/common.js';
import { PROFILE_COMMON_ENTRIES } from './schemas/runtime.js';

/** An `echo` profile (SPEC §5): the common fields plus echo's options, with their defaults; unknown keys are rejected. */
export const EchoProfileSchema = v.strictObject({
  engine: v.literal('echo'),
  ...PROFILE_COMMON_ENTRIES,
  /** Put before the echoed content. */
  prefix: v.optional(v.string(), 'echo: '),
  /** Wait this long before replying; honours abort. */
  delay_ms: v.optional(durationMs(0), 0),
  /** Pace of a streamed reply, per chunk (0: the whole reply at once). */
  stream_chunk_ms: v.optional(durationMs(0), 0),
});
/** An `echo` profile as a user writes it (every option optional). */
export type EchoProfile = v.InferInput<typeof EchoProfileSchema>;
/** A validated `echo` profile, defaults applied: what the engine reads. */
export type ParsedEchoProfile = v.InferOutput<typeof EchoProfileSchema>;

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
    profileSchema: EchoProfileSchema,
    async run(run: EngineRun): Promise<EngineResult> {
      // Validated with EchoProfileSchema when the Runtime opened.
      const { prefix, delay_ms, stream_chunk_ms } = run.worker.profile as ParsedEchoProfile;
      if (delay_ms > 0) await sleep(delay_ms, run.signal);
      const reply = `${prefix}${run.input}`;
      if (stream_chunk_ms > 0) await streamWords(run, reply, stream_chunk_ms);
      // The reply is the run's last entry: it commits together with the run's completion.
      return { final: { role: 'assistant', content: reply } };
    },
  };
}
