// The "ours" side of the input-cycle figures: many workers, each sending its next input once its run completed.

/** Every loop also stops at this many cycles, whatever the clock says. */
export const MAX_CYCLES = 1_000_000;

/**
 * Creates `workers` workers on `runtime`; `measure(ms)` runs input → run completed cycles on all of
 * them for `ms` and returns cycles per second.
 */
export async function workerCycles(runtime, workers) {
  const ids = [];
  for (let i = 0; i < workers; i++) {
    const worker = await runtime.createWorker({ intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    ids.push(worker.worker_id);
  }
  const cycle = async (worker_id, content) => {
    const ack = await runtime.sendInput(worker_id, { kind: 'user', content });
    const run = await runtime.getRun(worker_id, ack.run_id, { wait_ms: 30_000 });
    if (run.status !== 'completed') throw new Error(`a run ended ${run.status}`);
  };
  return async function measure(ms) {
    const start = performance.now();
    const deadline = start + ms;
    let count = 0;
    await Promise.all(
      ids.map(async (worker_id) => {
        for (let i = 0; i < MAX_CYCLES / workers && performance.now() < deadline; i++) {
          await cycle(worker_id, `benchmark input ${i}`);
          count++;
        }
      }),
    );
    return count / ((performance.now() - start) / 1000);
  };
}
