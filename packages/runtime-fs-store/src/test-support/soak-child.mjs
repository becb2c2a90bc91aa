// Child process for the memory soak: sends N system inputs with idempotency keys (every tenth one
// replays an earlier key) across W workers of an fs-backed Runtime, and prints the heap after a
// full GC (JS heap plus array buffers) at the start and at the end. Run with --expose-gc.
import { Runtime } from '@worker-runtime/core';
import { createFsStore } from '../../dist/index.js';

const [dataDir, total, workerCount] = process.argv.slice(2);
const N = Number(total);
const W = Number(workerCount);
const runtime = await Runtime.open({ store: createFsStore({ data_dir: dataDir }) });
const workers = Array.from({ length: W }, (_, i) => `w${i}`);
for (const worker_id of workers) {
  await runtime.createWorker({ worker_id, intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
}

let sent = 0;
async function drive(worker, until) {
  for (;;) {
    const i = sent++;
    if (i >= until) return;
    const replay = i % 10 === 9;
    const key = replay ? `k${i - 9}` : `k${i}`;
    const content = `input ${replay ? i - 9 : i}`;
    await runtime.sendInput(worker, { kind: 'system', content, idempotency_key: key });
  }
}
async function phase(until) {
  await Promise.all(workers.map((worker) => drive(worker, until)));
}
function heap() {
  globalThis.gc();
  globalThis.gc();
  // Typed arrays (the key index) live outside the JS heap: count them too.
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

// Warm up (JIT, caches, first key index per worker) before the baseline.
const warm = Math.min(2_000, Math.floor(N / 10));
await phase(warm);
const start = heap();
const began = Date.now();
await phase(N);
const end = heap();
process.stdout.write(`${JSON.stringify({ inputs: N, workers: W, start, end, ms: Date.now() - began })}\n`);
await runtime.close();
