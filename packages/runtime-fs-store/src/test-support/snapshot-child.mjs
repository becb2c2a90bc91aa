// Child process for the worker snapshot test: creates two workers, writes to both, stops the first,
// then says "ready" and waits to be killed with SIGKILL (no close, so no checkpoint ever runs).
import { Runtime } from '@worker-runtime/core';
import { createFsStore } from '../../dist/index.js';

const [dataDir] = process.argv.slice(2);
const runtime = await Runtime.open({
  runtime_id: 'rt',
  store: createFsStore({ data_dir: dataDir, checkpoint_bytes: 1 << 30 }),
});
const create = (worker_id) =>
  runtime.createWorker({ worker_id, intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
await create('first');
await runtime.sendInput('first', { kind: 'system', content: 'first one' });
await create('second');
await runtime.sendInput('first', { kind: 'system', content: 'first two' });
await runtime.stopWorker('first', { reason: 'done' });
await runtime.sendInput('second', { kind: 'system', content: 'second one' });
process.stdout.write('ready\n');
setInterval(() => undefined, 1000);
