import type { StoredRun, WorkerRecord } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { WorkerUnit } from './worker-unit.js';

const worker = { worker_id: 'w1', created_at: '2026-01-01T00:00:00.000Z' } as WorkerRecord;

function run(run_id: string, status: 'queued' | 'running' | 'completed'): StoredRun {
  return {
    worker_id: 'w1',
    input: null,
    run: {
      run_id,
      status,
      input_sequence: null,
      queued_at: '2026-01-01T00:00:00.000Z',
      started_at: null,
      ended_at: null,
      error: null,
      idempotency_key: null,
      output_entries: 0,
    },
  };
}

describe('a worker unit', () => {
  test('holds a map of unfinished runs only while it has some', () => {
    const unit = WorkerUnit.create(worker, 0, 0);
    expect(unit.unfinished).toBeNull();
    unit.applyRun(run('r1', 'queued'));
    unit.applyRun(run('r2', 'queued'));
    unit.applyRun(run('r1', 'running'));
    expect(unit.unfinishedRun('r1')?.run.status).toBe('running');
    expect(unit.toStored().unfinished_runs.map((stored) => stored.run.run_id)).toEqual(['r1', 'r2']);
    unit.applyRun(run('r1', 'completed'));
    unit.applyRun(run('r2', 'completed'));
    expect(unit.unfinished).toBeNull();
    expect(unit.last_run?.run.run_id).toBe('r2');
    expect(unit.toFile(1).unfinished_runs).toEqual([]);
  });
});
