// input_cycles_vs_sqlite_wal / memory_cycles_vs_sqlite_wal / durability_cost (and, for reference,
// input_cycles_vs_fsync / input_cycles_vs_sqlite): input → run completed cycles/s with 64 workers in
// parallel on the fs store and on the memory store, against single-threaded loops that write the
// same records: better-sqlite3 in WAL mode (synchronous=FULL), one fsync per record, and SQLite's
// rollback journal. CPU per cycle (process.cpuUsage: main thread and libuv's pool) for every side.
import { closeSync, fdatasyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MAX_CYCLES, workerCycles } from '../lib/cycles.mjs';
import { emit, figure, figureOptions, fmt, loadPackage, progress, reasonOf } from '../lib/figure.mjs';
import { captureRecords } from '../lib/records.mjs';

const { tmp, seconds = 3, baseline_seconds = 2, reference_seconds = 1.5, rounds = 2, workers = 64 } = figureOptions();

/** CPU µs (user + system, every thread of this process) since `start` (a `process.cpuUsage()`). */
function cpuSince(start) {
  const { user, system } = process.cpuUsage(start);
  return user + system;
}

/** Runs `cycle()` until `ms` passed (or MAX_CYCLES); returns cycles per second and CPU µs per cycle. */
function syncLoop(ms, cycle) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let cycles = 0;
  while (cycles < MAX_CYCLES && performance.now() - start < ms) {
    cycle();
    cycles++;
  }
  return { rate: cycles / ((performance.now() - start) / 1000), cpu: cpuSince(cpu) / cycles };
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

/**
 * Ours: a Runtime with `workers` workers on `store`; `measure(ms)` runs cycles on all of them for
 * `ms` and returns cycles/s and CPU µs per cycle.
 */
async function openRuntimeCycles(core, store) {
  const runtime = await core.Runtime.open(store ? { store } : {});
  const cycles = await workerCycles(runtime, workers);
  return {
    measure: async (ms) => {
      const cpu = process.cpuUsage();
      const start = performance.now();
      const rate = await cycles(ms);
      return { rate, cpu: cpuSince(cpu) / (rate * ((performance.now() - start) / 1000)) };
    },
    close: () => runtime.close(),
  };
}

/** The best of each side over the rounds: the highest rate and, separately, the lowest CPU per cycle. */
function keep(best, side, { rate, cpu }) {
  const was = best[side] ?? { rate: 0, cpu: Infinity };
  best[side] = { rate: Math.max(was.rate, rate), cpu: Math.min(was.cpu, cpu) };
}

const KEYS = [
  'input_cycles_vs_sqlite_wal',
  'memory_cycles_vs_sqlite_wal',
  'durability_cost',
  'input_cycles_vs_fsync',
  'input_cycles_vs_sqlite',
];
const dir = join(tmp, 'cycles-baseline');
mkdirSync(dir, { recursive: true });
let fsSide;
let memorySide;
try {
  const core = await loadPackage('@worker-runtime/core');
  const records = (await captureRecords(core)).cycle.flat();
  progress(`one cycle commits ${records.length} records (${records.map((record) => record.type).join(', ')})`);
  const { createFsStore, nodeFs } = await loadPackage('@worker-runtime/fs-store');
  // Counts the journal's fdatasyncs (the only fdatasync the store issues) for records per fdatasync.
  const counted = { fdatasync: 0 };
  const fs = {
    ...nodeFs,
    fdatasync: (fd) => {
      counted.fdatasync++;
      return nodeFs.fdatasync(fd);
    },
  };
  fsSide = await openRuntimeCycles(core, createFsStore({ data_dir: join(tmp, 'cycles-fs'), fs }));
  await fsSide.measure(1000);
  // Alternating rounds, best of each: the machine (and its disk) is shared, so noise should hit every side.
  const best = {};
  let fsCycles = 0;
  let fsSyncs = 0;
  for (let round = 0; round < rounds; round++) {
    const syncsBefore = counted.fdatasync;
    const start = performance.now();
    const fsRound = await fsSide.measure(seconds * 1000);
    fsCycles += fsRound.rate * ((performance.now() - start) / 1000);
    fsSyncs += counted.fdatasync - syncsBefore;
    keep(best, 'fs', fsRound);
    // A fresh memory runtime each round, closed after it: the memory store keeps every record on
    // the heap (~1 GB after a round), and left alive that heap made the GC of the fs rounds after
    // it mark it all again (fs 13.0k → 10.8k cycles/s, docs/performance.md).
    memorySide = await openRuntimeCycles(core, undefined);
    await memorySide.measure(1000);
    keep(best, 'memory', await memorySide.measure(seconds * 1000));
    await memorySide.close();
    memorySide = undefined;
    const file = join(dir, `round-${round}`);
    keep(best, 'wal', sqliteLoop(`${file}-wal.sqlite`, records, baseline_seconds, true));
    keep(best, 'perRecord', appendLoop(`${file}.jsonl`, records, baseline_seconds, true));
    keep(best, 'rollback', sqliteLoop(`${file}.sqlite`, records, baseline_seconds, false));
    progress(
      `round ${round + 1}: best so far fs ${fmt(best.fs.rate)}, memory ${fmt(best.memory.rate)}, SQLite WAL ${fmt(best.wal.rate)}, fdatasync per record ${fmt(best.perRecord.rate)}, SQLite rollback ${fmt(best.rollback.rate)} cycles/s`,
    );
  }
  // Reference for the human line only: the naive log with one fdatasync per input.
  const perInput = appendLoop(join(dir, 'per-input.jsonl'), records, reference_seconds, false);
  const cpuLine = `CPU µs per cycle: fs ${fmt(best.fs.cpu)}, memory ${fmt(best.memory.cpu)}, SQLite WAL ${fmt(best.wal.cpu)}`;
  const perSync = `journal: ${fmt((fsCycles * records.length) / fsSyncs)} records (${fmt(fsCycles / fsSyncs)} cycles) per fdatasync`;
  emit('input_cycles_vs_sqlite_wal', figure(best.fs.rate, best.wal.rate, 'cycles/s'), {
    line: `fs store ${fmt(best.fs.rate)} cycles/s (${workers} workers, durable acks) vs better-sqlite3 WAL (synchronous=FULL, one transaction per input) ${fmt(best.wal.rate)} cycles/s; ${cpuLine}; ${perSync}`,
  });
  emit('memory_cycles_vs_sqlite_wal', figure(best.memory.rate, best.wal.rate, 'cycles/s'), {
    line: `memory store ${fmt(best.memory.rate)} cycles/s (${workers} workers) vs better-sqlite3 WAL ${fmt(best.wal.rate)} cycles/s`,
  });
  emit('durability_cost', figure(best.fs.rate, best.memory.rate, 'cycles/s'), {
    line: `fs store ${fmt(best.fs.rate)} cycles/s vs memory store ${fmt(best.memory.rate)} cycles/s (CPU µs per cycle ${fmt(best.fs.cpu)} vs ${fmt(best.memory.cpu)})`,
  });
  emit('input_cycles_vs_fsync', figure(best.fs.rate, best.perRecord.rate, 'cycles/s'), {
    line: `fs store vs ${records.length} JSONL appends with one fdatasync each ${fmt(best.perRecord.rate)} cycles/s (one fdatasync per input: ${fmt(perInput.rate)})`,
  });
  emit('input_cycles_vs_sqlite', figure(best.fs.rate, best.rollback.rate, 'cycles/s'), {
    line: `fs store vs better-sqlite3 (synchronous=FULL, rollback journal, one transaction per input) ${fmt(best.rollback.rate)} cycles/s`,
  });
} catch (error) {
  for (const key of KEYS) emit(key, null, { reason: reasonOf(error) });
} finally {
  await fsSide?.close();
  await memorySide?.close();
}
