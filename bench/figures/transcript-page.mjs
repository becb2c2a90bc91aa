// transcript_page: median latency of the last page (tail 100) of a 1,000,000-entry transcript vs a 1,000-entry one.
import { emit, figure, figureOptions, fmt, loadPackage, median, msSince, progress, reasonOf } from '../lib/figure.mjs';

const { dataset, reads = 2000, seconds = 4, warmup = 100 } = figureOptions();
const PAGE = 100;

/** Median ms of `transcript(id, { tail: 100 })` on a Runtime reopened on `data_dir`. */
async function pageLatency(core, createFsStore, { data_dir, transcript }) {
  const runtime = await core.Runtime.open({ store: createFsStore({ data_dir }) });
  try {
    const read = async () => {
      const page = await runtime.transcript(dataset.worker_id, { tail: PAGE });
      const last = page.items[page.items.length - 1];
      if (page.items.length !== PAGE || last?.sequence !== transcript) {
        throw new Error(`the page held ${page.items.length} entries ending at ${last?.sequence}, not the last ${PAGE}`);
      }
    };
    for (let i = 0; i < warmup; i++) await read();
    const samples = [];
    const deadline = performance.now() + seconds * 1000;
    while (samples.length < reads && performance.now() < deadline) {
      const start = process.hrtime.bigint();
      await read();
      samples.push(msSince(start));
    }
    return { ms: median(samples), samples: samples.length };
  } finally {
    await runtime.close();
  }
}

try {
  const core = await loadPackage('@worker-runtime/core');
  const { createFsStore } = await loadPackage('@worker-runtime/fs-store');
  const small = await pageLatency(core, createFsStore, dataset.small);
  progress(`${fmt(dataset.small.transcript)} entries: median ${fmt(small.ms)} ms over ${small.samples} reads`);
  const big = await pageLatency(core, createFsStore, dataset.big);
  progress(`${fmt(dataset.big.transcript)} entries: median ${fmt(big.ms)} ms over ${big.samples} reads`);
  emit('transcript_page', figure(big.ms, small.ms, 'ms'), {
    line: `tail ${PAGE} of a ${fmt(dataset.big.transcript)}-entry transcript ${fmt(big.ms)} ms vs of a ${fmt(dataset.small.transcript)}-entry one ${fmt(small.ms)} ms (medians, fs store)`,
  });
} catch (error) {
  emit('transcript_page', null, { reason: reasonOf(error) });
}
