import type { EngineResult, EngineRun, WorkerEngine } from '../engine.js';

/** A handle on one run of a {@link createGateEngine} engine. */
export interface GatedRun {
  run: EngineRun;
  /** Lets the run reply `reply:<input>` and complete. */
  release(): void;
  /** Makes the run throw `message`. */
  fail(message: string): void;
}

/** An engine whose runs wait until the test releases them; honours abort unless `ignoreAbort`. */
export interface GateEngine extends WorkerEngine {
  /** Runs started so far, oldest first. */
  readonly runs: GatedRun[];
  /** Resolves with the n-th (0-based) run once it has started. */
  started(index: number): Promise<GatedRun>;
}

/**
 * A controllable engine for conformance tests. With `ignoreAbort`, a run keeps going after abort
 * and tries to append `late:<input>` when released (to prove fencing drops it). With `final`, a
 * released run hands its reply as its final entry instead of appending it.
 */
export function createGateEngine(options: { name?: string; ignoreAbort?: boolean; final?: boolean } = {}): GateEngine {
  const runs: GatedRun[] = [];
  const waiters: Array<{ index: number; resolve: (run: GatedRun) => void }> = [];
  return {
    name: options.name ?? 'gate',
    capabilities: ['gate.test'],
    runs,
    started(index: number): Promise<GatedRun> {
      const existing = runs[index];
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve) => waiters.push({ index, resolve }));
    },
    run(run: EngineRun): Promise<EngineResult | undefined> {
      return new Promise<EngineResult | undefined>((resolve, reject) => {
        let settled = false;
        const gated: GatedRun = {
          run,
          release: () => {
            if (settled) return;
            settled = true;
            const content = run.signal.aborted ? `late:${run.input}` : `reply:${run.input}`;
            if (options.final) resolve({ final: { role: 'assistant', content } });
            else run.append({ role: 'assistant', content }).then(() => resolve(undefined), reject);
          },
          fail: (message: string) => {
            if (settled) return;
            settled = true;
            reject(new Error(message));
          },
        };
        if (!options.ignoreAbort) {
          run.signal.addEventListener('abort', () => {
            if (settled) return;
            settled = true;
            reject(run.signal.reason);
          });
        }
        runs.push(gated);
        for (const waiter of waiters.filter((w) => w.index === runs.length - 1)) waiter.resolve(gated);
      });
    },
  };
}
