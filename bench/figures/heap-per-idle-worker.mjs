// heap_per_idle_worker: JS heap growth per idle worker after creating 10,000, memory store and fs store,
// each measured in its own `node --expose-gc` process. Ours is the worse store; the baseline is 2 KiB.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runFigureScript } from '../lib/child.mjs';
import { emit, figure, figureOptions, fmt, loadPackage, msSince, progress, reasonOf } from '../lib/figure.mjs';

const options = figureOptions();
const { tmp, workers = 10_000, store: storeKind, profile_dir } = options;
const TARGET_BYTES = 2048;
const KEY = 'heap_per_idle_worker';

/** Full collections until the heap stops shrinking, then the used heap in bytes. */
function settledHeap() {
  let previous = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i++) {
    globalThis.gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= previous - 1024) return used;
    previous = used;
  }
  return previous;
}

/** In the --expose-gc child: create `workers` idle workers on one store and report bytes per worker. */
async function measureOne() {
  const core = await loadPackage('@worker-runtime/core');
  let store;
  if (storeKind === 'fs') {
    const { createFsStore } = await loadPackage('@worker-runtime/fs-store');
    store = createFsStore({ data_dir: join(tmp, 'heap-fs') });
  } else {
    store = core.createMemoryStore();
  }
  // One extra worker warms every code path up before the first heap reading.
  const runtime = await core.Runtime.open({ store, limits: { max_workers: workers + 1 } });
  const create = () => runtime.createWorker({ intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  await create();
  const before = settledHeap();
  const started = process.hrtime.bigint();
  for (let i = 0; i < workers; i++) await create();
  const seconds = msSince(started) / 1000;
  const after = settledHeap();
  const summary = await runtime.summary();
  if (summary.workers.idle !== workers + 1)
    throw new Error(`expected ${workers + 1} idle workers, found ${summary.workers.idle}`);
  await runtime.close();
  return { bytes: (after - before) / workers, seconds };
}

if (storeKind) {
  try {
    emit(storeKind, await measureOne());
  } catch (error) {
    emit(storeKind, null, { reason: reasonOf(error) });
  }
} else {
  const perStore = {};
  const failures = [];
  for (const kind of ['memory', 'fs']) {
    const nodeArgs = ['--expose-gc', ...(profile_dir ? ['--cpu-prof', '--cpu-prof-dir', profile_dir] : [])];
    const outcome = await runFigureScript(
      fileURLToPath(import.meta.url),
      { ...options, store: kind },
      {
        timeoutMs: 110_000,
        nodeArgs,
      },
    );
    const result = outcome.results.find((entry) => entry.key === kind);
    if (result?.value) {
      perStore[kind] = result.value.bytes;
      progress(
        `${kind} store: ${fmt(result.value.bytes)} bytes per idle worker (created in ${fmt(result.value.seconds)} s)`,
      );
    } else {
      failures.push(
        `${kind} store: ${result?.reason || (outcome.timedOut ? 'timed out' : `exited with ${outcome.code}`)}`,
      );
    }
  }
  if (failures.length > 0) {
    emit(KEY, null, { reason: failures.join('; ') });
  } else {
    const worst = Math.max(perStore.memory, perStore.fs);
    emit(KEY, figure(worst, TARGET_BYTES, 'bytes'), {
      line: `heap per idle worker (${fmt(workers)} workers): memory store ${fmt(perStore.memory)} B, fs store ${fmt(perStore.fs)} B; baseline = the 2 KiB target`,
    });
  }
}
