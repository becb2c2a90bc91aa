// Child process for the retention soak: workers are created, fed `per_worker` system inputs with
// idempotency keys, and stopped, over and over (4 lanes at once); the retention sweep deletes each
// stopped worker, and the event log keeps about the newest 2,000 events. At every quarter of the run
// it prints the heap after a full GC and the size of the runtime's workers/ directory, journal,
// event log and the whole data dir. Run with --expose-gc.
// Args: <data_dir> <inputs> <per_worker> <memory|fs>
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime } from '@worker-runtime/core';
import { createFsStore } from '../../dist/index.js';

const [dataDir, total, perWorker, kind] = process.argv.slice(2);
const N = Number(total);
const PER = Number(perWorker);
const runtime = await Runtime.open({
  runtime_id: 'soak',
  ...(kind === 'fs' ? { store: createFsStore({ data_dir: dataDir }) } : {}),
  limits: { max_retained_events: 10_000 },
  retention: {
    stopped_worker_ttl_ms: 1,
    idempotency_ttl_ms: 60_000,
    sweep_interval_ms: 20,
    max_retained_events: 2_000,
  },
});
const runtimeDir = join(dataDir, 'runtimes', 'soak');

async function bytesUnder(path) {
  let total = 0;
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = join(path, entry.name);
    total += entry.isDirectory() ? await bytesUnder(full) : (await stat(full)).size;
  }
  return total;
}
async function fileBytes(path) {
  return (await stat(path).catch(() => ({ size: 0 }))).size;
}
/** The event log's files (`events.jsonl`/`.idx`, or `events.<first-id>.*` once trimmed). */
async function eventBytes() {
  let total = 0;
  for (const name of await readdir(runtimeDir).catch(() => [])) {
    if (name.startsWith('events.')) total += await fileBytes(join(runtimeDir, name));
  }
  return total;
}
async function sample(sent) {
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return {
    sent,
    heap: heapUsed + arrayBuffers,
    workers_dir: await bytesUnder(join(runtimeDir, 'workers')),
    journal: await fileBytes(join(runtimeDir, 'journal.jsonl')),
    events: await eventBytes(),
    data_dir: await bytesUnder(dataDir),
    live_workers: (await runtime.summary()).workers,
  };
}

let sent = 0;
let cycle = 0;
async function lane(until) {
  while (sent < until) {
    const worker_id = `c${cycle++}`;
    await runtime.createWorker({ worker_id, intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
    // A slot is taken before the await, so the lanes together send exactly `until`.
    for (let i = 0; i < PER && sent < until; i++) {
      const n = sent++;
      await runtime.sendInput(worker_id, { kind: 'system', content: `note ${n}`, idempotency_key: `k${i}` });
    }
    await runtime.stopWorker(worker_id);
  }
}
const samples = [];
const began = Date.now();
for (let quarter = 1; quarter <= 4; quarter++) {
  await Promise.all([0, 1, 2, 3].map(() => lane((N * quarter) / 4)));
  // Let the sweep catch up with the workers stopped last.
  await new Promise((resolve) => setTimeout(resolve, 200));
  samples.push(await sample(sent));
}
process.stdout.write(`${JSON.stringify({ inputs: N, ms: Date.now() - began, samples })}\n`);
await runtime.close();
