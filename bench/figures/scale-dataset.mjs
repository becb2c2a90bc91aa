// Builds the two fs-store data dirs that transcript_page and reopen read: 1,000 workers each, one of them
// holding a 1,000-entry (small) or 1,000,000-entry (big) transcript; the other 999 hold 9,000 entries.
//
// Entries go through the store's own write path (RuntimeStore.commit: journal, group commit, log files,
// checkpoints) in large batches. Through Runtime.sendInput every entry of one worker would wait for its
// own fsync, which for a million entries takes far longer than the bench may run.
import { join } from 'node:path';
import { emit, figureOptions, fmt, loadPackage, msSince, progress, reasonOf } from '../lib/figure.mjs';
import { captureRecords } from '../lib/records.mjs';

const { tmp, workers = 1000, small_entries = 1000, big_entries = 1_000_000, other_entries = 9000 } = figureOptions();
const TRANSCRIPT_WORKER = 'bench-transcript';
/** Entries per commit, and commits in flight: large batches, bounded memory. */
const CHUNK = 5000;
const IN_FLIGHT = 4;

/** Turns the captured records of one system input into a factory of (event, entry) pairs. */
function entryFactory(system, runtime_id) {
  const entryTemplate = system.flat().find((record) => record.type === 'transcript').entry;
  const eventTemplate = system
    .flat()
    .find((record) => record.type === 'event' && record.event.kind === 'transcript_appended').event;
  const created_at = new Date().toISOString();
  return (worker_id, sequence, event_id) => {
    const worker_ref = { runtime_id, worker_id };
    return [
      {
        type: 'event',
        event: {
          ...eventTemplate,
          id: event_id,
          worker_ref,
          message: `system entry ${sequence} appended`,
          data: { sequence, role: 'system' },
          created_at,
        },
      },
      {
        type: 'transcript',
        entry: {
          ...entryTemplate,
          sequence,
          worker_ref,
          content: `system note ${sequence}: the quick brown fox jumps over the lazy dog`,
          event_id,
          created_at,
        },
      },
    ];
  };
}

async function build(core, createFsStore, templates, data_dir, transcriptEntries) {
  const store = createFsStore({ data_dir });
  const snapshot = await store.open({
    generate_id: () => core.generateId(),
    now: new Date().toISOString(),
    max_diagnostics: core.DEFAULT_LIMITS.max_diagnostics,
    max_retained_events: core.DEFAULT_LIMITS.max_retained_events,
  });
  const runtime_id = snapshot.runtime.runtime_id;
  let nextEvent = snapshot.last_event_id + 1;
  const pending = [];
  const commit = async (records) => {
    const committed = store.commit(records);
    // Awaited below; until then a failure must not count as unhandled.
    committed.catch(() => undefined);
    pending.push(committed);
    if (pending.length >= IN_FLIGHT) await pending.shift();
  };
  try {
    const workerRecord = templates.create.flat().find((record) => record.type === 'worker').worker;
    const createdEvent = templates.create
      .flat()
      .find((record) => record.type === 'event' && record.event.kind === 'worker_created').event;
    const ids = [TRANSCRIPT_WORKER];
    for (let i = 1; i < workers; i++) ids.push(`bench-worker-${String(i).padStart(4, '0')}`);
    const creates = ids.flatMap((worker_id) => [
      { type: 'worker', worker: { ...workerRecord, worker_id } },
      {
        type: 'event',
        event: {
          ...createdEvent,
          id: nextEvent++,
          worker_ref: { runtime_id, worker_id },
          message: `worker ${worker_id} created`,
        },
      },
    ]);
    await commit(creates);

    const makeEntry = entryFactory(templates.system, runtime_id);
    // The 999 other workers share `other_entries`, spread as evenly as the division allows.
    let batch = [];
    for (let i = 1; i < ids.length; i++) {
      const count = Math.floor(other_entries / (ids.length - 1)) + (i <= other_entries % (ids.length - 1) ? 1 : 0);
      for (let sequence = 1; sequence <= count; sequence++) batch.push(...makeEntry(ids[i], sequence, nextEvent++));
      if (batch.length >= 2 * CHUNK) {
        await commit(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await commit(batch);

    const started = process.hrtime.bigint();
    for (let from = 1; from <= transcriptEntries; from += CHUNK) {
      const chunk = [];
      for (let sequence = from; sequence < from + CHUNK && sequence <= transcriptEntries; sequence++) {
        chunk.push(...makeEntry(TRANSCRIPT_WORKER, sequence, nextEvent++));
      }
      await commit(chunk);
      if ((from - 1) % 200_000 === 0 && from > 1) {
        progress(`${fmt(from - 1)} entries (${fmt(msSince(started) / 1000)} s)`);
      }
    }
    await Promise.all(pending);
  } finally {
    await store.close();
  }
}

try {
  const core = await loadPackage('@worker-runtime/core');
  const { createFsStore } = await loadPackage('@worker-runtime/fs-store');
  const templates = await captureRecords(core);
  const small = join(tmp, 'scale-small');
  const big = join(tmp, 'scale-big');
  let started = process.hrtime.bigint();
  await build(core, createFsStore, templates, small, small_entries);
  progress(
    `small data dir: ${workers} workers, ${fmt(small_entries + other_entries)} entries in ${fmt(msSince(started) / 1000)} s`,
  );
  started = process.hrtime.bigint();
  await build(core, createFsStore, templates, big, big_entries);
  progress(
    `big data dir: ${workers} workers, ${fmt(big_entries + other_entries)} entries in ${fmt(msSince(started) / 1000)} s`,
  );
  emit('dataset', {
    small: { data_dir: small, entries: small_entries + other_entries, transcript: small_entries },
    big: { data_dir: big, entries: big_entries + other_entries, transcript: big_entries },
    workers,
    worker_id: TRANSCRIPT_WORKER,
  });
} catch (error) {
  emit('dataset', null, { reason: reasonOf(error) });
}
