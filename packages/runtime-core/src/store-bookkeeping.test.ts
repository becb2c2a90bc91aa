import { expect, test } from 'vitest';
import type { RunRecord, RunStatus } from './schemas/run.js';
import { newTally, storedWorker, tallyEvent, tallyRun } from './store-bookkeeping.js';
import { NOW, runRecord, workerRecord } from './testing/records.js';

function run(run_id: string, status: RunStatus): { worker_id: string; run: RunRecord; input: null } {
  return { worker_id: 'w', run: runRecord(run_id, { status }), input: null };
}

const worker = workerRecord('w');

test('last run is the terminal run latest in queue order; unfinished runs keep queue order', () => {
  const tally = newTally(worker);
  expect(storedWorker(worker, 0, tally)).toMatchObject({
    last_run: null,
    unfinished_runs: [],
    last_event_id: 0,
    updated_at: NOW,
  });
  tallyRun(tally, run('r1', 'queued'));
  tallyRun(tally, run('r2', 'queued'));
  tallyRun(tally, run('r3', 'running'));
  tallyRun(tally, run('r1', 'running'));
  expect(storedWorker(worker, 0, tally).unfinished_runs.map((s) => s.run.run_id)).toEqual(['r1', 'r2', 'r3']);
  tallyRun(tally, run('r3', 'cancelled'));
  tallyRun(tally, run('r1', 'completed'));
  // r1 ended later but was queued before r3: r3 stays the last run.
  expect(storedWorker(worker, 0, tally).last_run?.run_id).toBe('r3');
  tallyRun(tally, run('r2', 'failed'));
  expect(tally.unfinished).toBeNull();
  tallyEvent(tally, { id: 7, created_at: '2026-01-02T00:00:00.000Z' });
  const stored = storedWorker(worker, 4, tally);
  expect(stored).toMatchObject({ transcript_len: 4, last_event_id: 7, updated_at: '2026-01-02T00:00:00.000Z' });
  expect(stored.last_run?.run_id).toBe('r3');
  // The snapshot is a copy: the tally goes on changing.
  tallyRun(tally, run('r4', 'queued'));
  expect(stored.unfinished_runs).toEqual([]);
});
