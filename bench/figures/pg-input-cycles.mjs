// pg_input_cycles: input → run completed cycles/s on the PostgreSQL store, 64 workers in parallel,
// against a loop that writes the same records with one transaction per input on the same server.
// Skipped (null, with the reason) when no PostgreSQL is available.
import pg from 'pg';
import { startTestPostgres } from '../../scripts/test-postgres.mjs';
import { MAX_CYCLES, workerCycles } from '../lib/cycles.mjs';
import { emit, figure, figureOptions, fmt, loadPackage, progress, reasonOf } from '../lib/figure.mjs';
import { captureRecords } from '../lib/records.mjs';

const { seconds = 3, baseline_seconds = 2, rounds = 2, workers = 64 } = figureOptions();

/** Baseline: per input, one transaction inserting each of the cycle's records (synchronous_commit on). */
async function transactionLoop(url, records, seconds) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DROP TABLE IF EXISTS bench_records');
    await client.query(
      'CREATE TABLE bench_records (seq bigserial PRIMARY KEY, type text NOT NULL, body text NOT NULL)',
    );
    const start = performance.now();
    let cycles = 0;
    while (cycles < MAX_CYCLES && performance.now() - start < seconds * 1000) {
      await client.query('BEGIN');
      for (const record of records) {
        await client.query('INSERT INTO bench_records (type, body) VALUES ($1, $2)', [
          record.type,
          JSON.stringify(record),
        ]);
      }
      await client.query('COMMIT');
      cycles++;
    }
    return cycles / ((performance.now() - start) / 1000);
  } finally {
    await client.query('DROP TABLE IF EXISTS bench_records').catch(() => undefined);
    await client.end();
  }
}

/** Ours: a Runtime on the pg store with `workers` workers, each sending its next input once its run completed. */
async function openRuntimeCycles(core, createPgStore, url) {
  const store = createPgStore({ connection_string: url, schema: 'bench_cycles' });
  const runtime = await core.Runtime.open({ runtime_id: `bench-${Date.now()}`, store });
  return { measure: await workerCycles(runtime, workers), close: () => runtime.close() };
}

let server = null;
let ours = null;
try {
  try {
    server = await startTestPostgres();
  } catch (error) {
    throw new Error(`no PostgreSQL available (${reasonOf(error)})`);
  }
  const core = await loadPackage('@worker-runtime/core');
  const { createPgStore } = await loadPackage('@worker-runtime/pg-store');
  const records = (await captureRecords(core)).cycle.flat();
  progress(`one cycle commits ${records.length} records (${records.map((record) => record.type).join(', ')})`);
  ours = await openRuntimeCycles(core, createPgStore, server.url);
  await ours.measure(1000);
  const best = { ours: 0, baseline: 0 };
  for (let round = 0; round < rounds; round++) {
    best.ours = Math.max(best.ours, await ours.measure(seconds * 1000));
    best.baseline = Math.max(best.baseline, await transactionLoop(server.url, records, baseline_seconds));
    progress(
      `round ${round + 1}: best so far ours ${fmt(best.ours)}, one transaction per input ${fmt(best.baseline)} cycles/s`,
    );
  }
  emit('pg_input_cycles', figure(best.ours, best.baseline, 'cycles/s'), {
    line: `pg store ${fmt(best.ours)} cycles/s (${workers} workers) vs ${records.length} INSERTs in one transaction per input ${fmt(best.baseline)} cycles/s`,
  });
} catch (error) {
  emit('pg_input_cycles', null, { reason: reasonOf(error) });
} finally {
  await ours?.close().catch(() => undefined);
  await server?.stop();
}
