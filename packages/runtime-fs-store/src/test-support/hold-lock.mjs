// Child process for the lock tests: opens a runtime with the built fs store, says "ready", and holds
// the lock until its stdin closes.
import { Runtime } from '@worker-runtime/core';
import { createFsStore } from '../../dist/index.js';

const [dataDir, runtimeId] = process.argv.slice(2);
const runtime = await Runtime.open({ runtime_id: runtimeId, store: createFsStore({ data_dir: dataDir }) });
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  await runtime.close();
  process.exit(0);
});
