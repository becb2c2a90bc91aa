// Child process for the delete crash test: creates workers with a transcript and runs, then
// force-deletes them, printing one JSON line when a worker is complete and one when its delete was
// acknowledged. The parent kills it with SIGKILL at a random moment.
import { Runtime } from '@worker-runtime/core';
import { createFsStore } from '../../dist/index.js';

const [dataDir, round, checkpointBytes] = process.argv.slice(2);
const runtime = await Runtime.open({
  store: createFsStore({ data_dir: dataDir, checkpoint_bytes: Number(checkpointBytes) }),
});
process.stdout.write('ready\n');

const create = { intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } };
for (let i = 0; ; i++) {
  const worker_id = `d${round}-${i}`;
  await runtime.createWorker({ ...create, worker_id });
  await runtime.sendInput(worker_id, { kind: 'system', content: 'one', idempotency_key: 'k' });
  const ack = await runtime.sendInput(worker_id, { kind: 'user', content: 'two' });
  await runtime.getRun(worker_id, ack.run_id, { wait_ms: 5000 });
  process.stdout.write(`${JSON.stringify({ complete: worker_id })}\n`);
  await runtime.deleteWorker(worker_id, { force: i % 2 === 0 });
  process.stdout.write(`${JSON.stringify({ deleted: worker_id })}\n`);
  if (i % 2 === 1) await runtime.stopWorker(worker_id).catch(() => undefined);
}
