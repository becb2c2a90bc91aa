// Child process for the idempotency expiry crash test: commits idempotency records to three
// workers (record i of round r made at minute r * 1e6 + i) and every 7th record expires those made
// 30 minutes before it, so workers' logs are rewritten all the time. It prints each record once it
// is acknowledged and each cutoff before it asks for it. The parent kills it with SIGKILL.
import { workerRecord } from '@worker-runtime/core/testing';
import { createFsStore } from '../../dist/index.js';

const [dataDir, round, checkpointBytes] = process.argv.slice(2);
const WORKERS = ['a', 'b', 'c'];
const at = (minute) => new Date(Date.UTC(2026, 0, 1) + minute * 60_000).toISOString();
const store = createFsStore({ data_dir: dataDir, checkpoint_bytes: Number(checkpointBytes) });
const snapshot = await store.open({
  runtime_id: 'rt',
  generate_id: () => 'rt',
  now: new Date().toISOString(),
  max_diagnostics: 100,
  max_retained_events: 100_000,
});
const known = new Set(snapshot.workers.map((stored) => stored.worker.worker_id));
for (const id of WORKERS) if (!known.has(id)) await store.commit([{ type: 'worker', worker: workerRecord(id) }]);
process.stdout.write('ready\n');

for (let i = 0; ; i++) {
  const minute = Number(round) * 1_000_000 + i;
  const worker_id = WORKERS[i % WORKERS.length];
  const record = {
    worker_id,
    key: `r${round}-${i}`,
    fingerprint: `fp-${minute}`,
    ack: {
      worker_ref: { runtime_id: 'rt', worker_id },
      status: 'idle',
      run_id: null,
      run_status: null,
      transcript_sequence: null,
      queue_position: null,
      event_id: 1,
      replayed: false,
    },
    created_at: at(minute),
  };
  await store.commit([{ type: 'idempotency', record }]);
  process.stdout.write(`${JSON.stringify({ record })}\n`);
  if (i % 7 === 6) {
    const cutoff = at(minute - 30);
    process.stdout.write(`${JSON.stringify({ cutoff })}\n`);
    await store.expireIdempotency(cutoff);
  }
}
