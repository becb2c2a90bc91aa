import type { RunRecord } from '../schemas/run.js';
import type { WorkerRecord } from '../store.js';

// Record builders shared by the store contract suite and core's own store tests.

/** The timestamp every built record carries. */
export const NOW = '2026-01-01T00:00:00.000Z';

/** A worker record as a Runtime commits it at creation. */
export function workerRecord(worker_id: string, overrides: Partial<WorkerRecord> = {}): WorkerRecord {
  return {
    worker_id,
    display_name: null,
    intent: { kind: 'assistant' },
    profile: { kind: 'runtime_default' },
    config_bundle: null,
    requested_capabilities: [],
    workspace_refs: [],
    mount_refs: [{ name: 'repo', reference: 'opaque://x' }],
    metadata: { team: 'a' },
    created_at: NOW,
    status: 'idle',
    stopped_event_id: null,
    ...overrides,
  };
}

/** A run record, `queued` unless overridden. */
export function runRecord(run_id: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    run_id,
    status: 'queued',
    input_sequence: null,
    queued_at: NOW,
    started_at: null,
    ended_at: null,
    error: null,
    idempotency_key: null,
    output_entries: 0,
    ...overrides,
  };
}
