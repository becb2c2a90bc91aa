// Embedded use: a Node process drives a Runtime directly, no HTTP involved.
import { Runtime } from '@worker-runtime/core';

const runtime = await Runtime.open({ display_name: 'embedded-demo' });
const worker = await runtime.createWorker({ intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
const ack = await runtime.sendInput(worker.worker_id, { kind: 'user', content: 'Hello, worker!' });
await runtime.getRun(worker.worker_id, ack.run_id, { wait_ms: 5000 });
for (const entry of (await runtime.transcript(worker.worker_id)).items) {
  console.log(`${entry.sequence} ${entry.role}: ${entry.content}`);
}
await runtime.close();
