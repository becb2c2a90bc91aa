// input_cycles_vs_fsync / input_cycles_vs_sqlite: input → run completed cycles/s on the fs store, 64 workers
// in parallel, against loops that write the same records with one fsync each, and with SQLite.
import { closeSync, fdatasyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MAX_CYCLES, workerCycles } from '../lib/cycles.mjs';
import { emit, figure, figureOptions, fmt, loadPackage, progress, reasonOf } from '../lib/figure.mjs';
import { captureRecords } from '../lib/records.mjs';

const { tmp, seconds = 3, baseline_seconds = 2, reference_seconds = 1.5, rounds = 2, workers = 64 } = figureOptions();

/** Runs `cycle()` until `ms` passed (or MAX_CYCLES); returns cycles per second. */
function syncLoop(ms, cycle) {
  const start = performance.now();
  let cycles = 0;
  while (cycles < MAX_CYCLES && performance.now() - start < ms) {
    cycle();
    cycles++;
  }
  return cycles / ((performance.now() - start) / 1000);
}

/** Baseline: each record of a cycle appended as one JSONL line, one fdatasync per line (or per cycle). */
function appendLoop(path, records, seconds, fsyncPerRecord) {
  const fd = openSync(path, 'a');
  try {
    return syncLoop(seconds * 1000, () => {
      if (fsyncPerRecord) {
        for (const record of records) {
          writeSync(fd, `${JSON.stringify(record)}\n`);
          fdatasyncSync(fd);
        }
      } else {
        writeSync(fd, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
        fdatasyncSync(fd);
      }
    });
  } finally {
    closeSync(fd);
  }
}

/** Baseline: one SQLite transaction per input inserting the cycle's records, synchronous=FULL. */
function sqliteLoop(path, records, seconds, wal) {
  const db = new Database(path);
  try {
    if (wal) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE records (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, body TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO records (type, body) VALUES (?, ?)');
    const cycle = db.transaction(() => {
      for (const record of records) insert.run(record.type, JSON.stringify(record));
    });
    return syncLoop(seconds * 1000, cycle);
  } finally {
    db.close();
  }
}

/** Ours: opens the fs-store Runtime with `workers` workers; `measure(ms)` runs cycles on all of them for `ms`. */
async function openRuntimeCycles(core, createFsStore) {
  const runtime = await core.Runtime.open({ store: createFsStore({ data_dir: join(tmp, 'cycles-fs') }) });
  return { measure: await workerCycles(runtime, workers), close: () => runtime.close() };
}

const dir = join(tmp, 'cycles-baseline');
mkdirSync(dir, { recursive: true });
let ours;
try {
  const core = await loadPackage('@worker-runtime/core');
  const records = (await captureRecords(core)).cycle.flat();
  progress(`one cycle commits ${records.length} records (${records.map((record) => record.type).join(', ')})`);
  const { createFsStore } = await loadPackage('@worker-runtime/fs-store');
  ours = await openRuntimeCycles(core, createFsStore);
  await ours.measure(1000);
  // Alternating rounds, best of each: the machine (and its disk) is shared, so noise should hit every side.
  const best = { ours: 0, perRecord: 0, sqlite: 0 };
  for (let round = 0; round < rounds; round++) {
    best.ours = Math.max(best.ours, await ours.measure(seconds * 1000));
    const file = join(dir, `round-${round}`);
    best.perRecord = Math.max(best.perRecord, appendLoop(`${file}.jsonl`, records, baseline_seconds, true));
    best.sqlite = Math.max(best.sqlite, sqliteLoop(`${file}.sqlite`, records, baseline_seconds, false));
    progress(
      `round ${round + 1}: best so far ours ${fmt(best.ours)}, fdatasync per record ${fmt(best.perRecord)}, SQLite ${fmt(best.sqlite)} cycles/s`,
    );
  }
  // References for the human line only: cheaper variants of each baseline.
  const perInput = appendLoop(join(dir, 'per-input.jsonl'), records, reference_seconds, false);
  const wal = sqliteLoop(join(dir, 'wal.sqlite'), records, reference_seconds, true);
  emit('input_cycles_vs_fsync', figure(best.ours, best.perRecord, 'cycles/s'), {
    line: `fs store ${fmt(best.ours)} cycles/s (${workers} workers) vs ${records.length} JSONL appends with one fdatasync each ${fmt(best.perRecord)} cycles/s (one fdatasync per input: ${fmt(perInput)})`,
  });
  emit('input_cycles_vs_sqlite', figure(best.ours, best.sqlite, 'cycles/s'), {
    line: `fs store ${fmt(best.ours)} cycles/s vs better-sqlite3 (synchronous=FULL, rollback journal, one transaction per input) ${fmt(best.sqlite)} cycles/s (WAL: ${fmt(wal)})`,
  });
} catch (error) {
  emit('input_cycles_vs_fsync', null, { reason: reasonOf(error) });
  emit('input_cycles_vs_sqlite', null, { reason: reasonOf(error) });
} finally {
  await ours?.close();
}
