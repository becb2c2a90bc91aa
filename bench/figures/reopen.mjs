// reopen: Runtime.open on an existing fs data dir, 1,000 workers with ~1,000,000 vs 10,000 transcript entries.
import { emit, figure, figureOptions, fmt, loadPackage, median, msSince, progress, reasonOf } from '../lib/figure.mjs';

const { dataset, repeats = 7, seconds = 40 } = figureOptions();

/** Median ms of Runtime.open (close timed apart) after one untimed warm-up open. */
async function reopenTime(core, createFsStore, { data_dir }) {
  const opens = [];
  const closes = [];
  const deadline = performance.now() + seconds * 1000;
  for (let i = 0; i <= repeats && (i < 2 || performance.now() < deadline); i++) {
    const start = process.hrtime.bigint();
    const runtime = await core.Runtime.open({ store: createFsStore({ data_dir }) });
    const opened = msSince(start);
    const closing = process.hrtime.bigint();
    await runtime.close();
    // The first open may replay and checkpoint what the generator left; it only warms up.
    if (i > 0) {
      opens.push(opened);
      closes.push(msSince(closing));
    }
  }
  return { open: median(opens), close: median(closes), samples: opens.length };
}

try {
  const core = await loadPackage('@worker-runtime/core');
  const { createFsStore } = await loadPackage('@worker-runtime/fs-store');
  const small = await reopenTime(core, createFsStore, dataset.small);
  progress(
    `${fmt(dataset.small.entries)} entries: open ${fmt(small.open)} ms, close ${fmt(small.close)} ms (${small.samples} runs)`,
  );
  const big = await reopenTime(core, createFsStore, dataset.big);
  progress(
    `${fmt(dataset.big.entries)} entries: open ${fmt(big.open)} ms, close ${fmt(big.close)} ms (${big.samples} runs)`,
  );
  emit('reopen', figure(big.open, small.open, 'ms'), {
    line: `Runtime.open with ${dataset.workers} workers and ${fmt(dataset.big.entries)} entries ${fmt(big.open)} ms vs ${fmt(dataset.small.entries)} entries ${fmt(small.open)} ms (medians; close ${fmt(big.close)} vs ${fmt(small.close)} ms)`,
  });
} catch (error) {
  emit('reopen', null, { reason: reasonOf(error) });
}
