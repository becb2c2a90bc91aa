// The exact store records the Runtime commits, captured from a real Runtime so baselines write the same data.

/**
 * Runs a Runtime on a memory store that remembers every committed batch, and returns the batches
 * of: creating a worker, one input → run completed cycle (echo engine), and one system input.
 */
export async function captureRecords(core) {
  const { MemoryStore, Runtime } = core;
  class RecordingStore extends MemoryStore {
    batches = [];
    async commit(records) {
      this.batches.push(structuredClone(records));
      return super.commit(records);
    }
  }
  const store = new RecordingStore();
  const runtime = await Runtime.open({ store });
  const take = () => store.batches.splice(0);
  take();
  const worker = await runtime.createWorker({ intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  const create = take();
  const ack = await runtime.sendInput(worker.worker_id, { kind: 'user', content: 'benchmark input' });
  const run = await runtime.getRun(worker.worker_id, ack.run_id, { wait_ms: 10_000 });
  if (run.status !== 'completed') throw new Error(`the capture run ended ${run.status}`);
  const cycle = take();
  await runtime.sendInput(worker.worker_id, { kind: 'system', content: 'benchmark system note' });
  const system = take();
  await runtime.close();
  return { create, cycle, system };
}
