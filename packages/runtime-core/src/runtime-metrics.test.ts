import { describe, expect, test } from 'vitest';
import type { EngineRun, WorkerEngine } from './engine.js';
import type { RunEnded } from './runtime-metrics.js';
import { runtimesClosedAfterEach } from './test-runtimes.js';

const open = runtimesClosedAfterEach();

/** Completes a run on "ok", fails it on anything else. */
const verdictEngine: WorkerEngine = {
  name: 'verdict',
  async run(run: EngineRun): Promise<void> {
    if (run.input !== 'ok') throw new Error('not ok');
    await run.append({ role: 'assistant', content: 'fine' });
  },
};

describe('Runtime#metrics and Runtime#observe', () => {
  test('counters and gauges move with workers, runs, events and watches', async () => {
    const rt = await open({ engines: [verdictEngine], profiles: { v: { engine: 'verdict' } } });
    const base = rt.metrics();
    expect(base.workers).toEqual({ idle: 0, running: 0, stopped: 0 });
    expect(base.events.runtime_started).toBe(1);
    expect(base.runs_ended).toEqual({ completed: 0, failed: 0, cancelled: 0, timed_out: 0, interrupted: 0 });

    const ended: RunEnded[] = [];
    const commits: number[] = [];
    const stop = rt.observe({ runEnded: (run) => ended.push(run), committed: (seconds) => commits.push(seconds) });
    const { worker_id } = await rt.createWorker({
      intent: { kind: 'assistant' },
      profile: { kind: 'named', value: 'v' },
    });
    for (const content of ['ok', 'bad', 'ok']) {
      const ack = await rt.sendInput(worker_id, { kind: 'user', content });
      await rt.getRun(worker_id, ack.run_id as string, { wait_ms: 10_000 });
    }
    const watch = rt.watch({ worker_id });
    await watch.ready();
    const after = rt.metrics();
    expect(after.workers).toEqual({ idle: 1, running: 0, stopped: 0 });
    expect(after.runs_ended).toMatchObject({ completed: 2, failed: 1 });
    expect(after.events.run_started).toBe(3);
    expect(after.events.worker_created).toBe(1);
    expect(after.watches).toBe(1);
    expect(after.store_failed).toBe(false);
    expect(after.last_event_id).toBeGreaterThan(base.last_event_id);
    expect(ended.map((run) => run.status)).toEqual(['completed', 'failed', 'completed']);
    for (const run of ended) expect(run.seconds).toBeGreaterThanOrEqual(0);
    expect(commits.length).toBeGreaterThanOrEqual(7);
    for (const seconds of commits) expect(seconds).toBeGreaterThanOrEqual(0);

    stop();
    await watch.return();
    await rt.stopWorker(worker_id);
    const stopped = rt.metrics();
    expect(stopped.workers).toEqual({ idle: 0, running: 0, stopped: 1 });
    expect(stopped.watches).toBe(0);
    expect(ended).toHaveLength(3);
  });

  test('a throwing observer does not disturb the Runtime', async () => {
    const rt = await open();
    rt.observe({
      committed: () => {
        throw new Error('observer bug');
      },
    });
    const { worker_id } = await rt.createWorker({
      intent: { kind: 'assistant' },
      profile: { kind: 'runtime_default' },
    });
    const ack = await rt.sendInput(worker_id, { kind: 'user', content: 'hi' });
    expect((await rt.getRun(worker_id, ack.run_id as string, { wait_ms: 10_000 })).status).toBe('completed');
  });
});
