import type { IdempotencyRecord } from '@worker-runtime/core';

/** Minute `n` of a day: the `created_at` of key `k<n>`. */
export const at = (n: number): string => new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();

/** The idempotency record of worker `worker_id`'s key `k<n>`, made at minute `n` (runtime `rt`). */
export function idempotencyRecord(worker_id: string, n: number): IdempotencyRecord {
  return {
    worker_id,
    key: `k${n}`,
    fingerprint: `fp-${worker_id}-${n}`,
    ack: {
      worker_ref: { runtime_id: 'rt', worker_id },
      status: 'idle',
      run_id: null,
      run_status: null,
      transcript_sequence: n + 1,
      queue_position: null,
      event_id: 1,
      replayed: false,
    },
    created_at: at(n),
  };
}
