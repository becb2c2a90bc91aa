// Child process for the crash test: drives concurrent inputs against an fs-backed Runtime and prints
// one JSON line per acknowledged input. The parent kills it with SIGKILL at a random moment.
import { Runtime } from '@worker-runtime/core';
import { createFsStore } from '../../dist/index.js';

// [retained]: retention.max_retained_events, so kills also land while the event log is trimmed.
const [dataDir, round, checkpointBytes, retained] = process.argv.slice(2);
const runtime = await Runtime.open({
  store: createFsStore({ data_dir: dataDir, checkpoint_bytes: Number(checkpointBytes) }),
  limits: { max_queued_inputs: 100_000 },
  ...(retained ? { retention: { max_retained_events: Number(retained) } } : {}),
});
const workers = ['w0', 'w1', 'w2', 'w3'];
const existing = new Set((await runtime.listWorkers()).workers.map((worker) => worker.worker_id));
for (const worker_id of workers) {
  if (!existing.has(worker_id)) {
    await runtime.createWorker({ worker_id, intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  }
}
process.stdout.write('ready\n');

async function drive(worker) {
  for (let i = 0; ; i++) {
    const content = `${worker}-r${round}-${i}`;
    const kind = i % 2 === 0 ? 'system' : 'user';
    const ack = await runtime.sendInput(worker, { kind, content, on_busy: 'enqueue' });
    process.stdout.write(`${JSON.stringify({ worker, content, ack })}\n`);
  }
}
await Promise.all(workers.map(drive));
