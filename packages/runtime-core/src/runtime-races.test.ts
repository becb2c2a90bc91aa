import { afterEach, describe, expect, test } from 'vitest';
import { ERROR_CODES, isRuntimeError } from './errors.js';
import { Runtime } from './runtime.js';
import type { RuntimeEvent } from './schemas/event.js';
import type { InputRequest } from './schemas/input.js';

// Races at the Runtime level: every request gets a typed answer (an ack or a RuntimeError with a
// SPEC code), and at most one run of a worker is ever running.

const open: Runtime[] = [];
afterEach(async () => {
  for (const rt of open.splice(0)) await rt.close({ grace_ms: 50 });
});

const RUN_ENDS = ['run_completed', 'run_failed', 'run_cancelled', 'run_timed_out', 'run_interrupted'];

/** Tracks, from the event stream, how many runs were running at once. */
function concurrency(rt: Runtime): { readonly max: number; readonly running: number } {
  const started = new Set<string>();
  let max = 0;
  rt.subscribe((event: RuntimeEvent) => {
    if (event.kind === 'run_started') started.add(event.run_id as string);
    else if (RUN_ENDS.includes(event.kind)) started.delete(event.run_id as string);
    max = Math.max(max, started.size);
  });
  return {
    get max() {
      return max;
    },
    get running() {
      return started.size;
    },
  };
}

async function slowWorker(delay_ms = 300): Promise<{ rt: Runtime; tracker: ReturnType<typeof concurrency> }> {
  const rt = await Runtime.open({
    profiles: { slow: { engine: 'echo', delay_ms } },
    default_profile: 'slow',
    limits: { cancel_grace_ms: 200 },
  });
  open.push(rt);
  const tracker = concurrency(rt);
  await rt.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  return { rt, tracker };
}

/** Marks a request as handled now (the storm awaits between requests); its outcome is checked later. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Settles every promise; fails on anything that is not a RuntimeError with a known code. */
async function typedOutcomes<T>(promises: Promise<T>[]): Promise<{ ok: T[]; codes: string[] }> {
  const settled = await Promise.allSettled(promises);
  const ok: T[] = [];
  const codes: string[] = [];
  for (const result of settled) {
    if (result.status === 'fulfilled') {
      ok.push(result.value);
      continue;
    }
    const error = result.reason as unknown;
    if (!isRuntimeError(error) || error.code === 'internal') throw error;
    expect(ERROR_CODES).toContain(error.code);
    codes.push(error.code);
  }
  return { ok, codes };
}

async function settle(rt: Runtime): Promise<void> {
  await expect
    .poll(async () => (await rt.getWorker('w')).status, { timeout: 15_000, interval: 20 })
    .not.toBe('running');
  await expect.poll(async () => (await rt.getWorker('w')).queued_inputs, { timeout: 15_000 }).toBe(0);
}

describe('concurrent interrupts', () => {
  test('100 concurrent interrupts: each is acknowledged, one run at a time, the last one completes', async () => {
    const { rt, tracker } = await slowWorker();
    await rt.sendInput('w', { kind: 'user', content: 'first' });
    const inputs = Array.from({ length: 100 }, (_, i) =>
      rt.sendInput('w', { kind: 'user', content: `interrupt ${i}`, on_busy: 'interrupt' }),
    );
    const { ok, codes } = await typedOutcomes(inputs);
    expect(codes).toEqual([]);
    expect(ok).toHaveLength(100);
    expect(ok.every((ack) => ack.run_status === 'running' && ack.replayed === false)).toBe(true);
    expect(new Set(ok.map((ack) => ack.run_id)).size).toBe(100);
    await settle(rt);
    expect(tracker.max).toBe(1);
    const runs = (await rt.listRuns('w', { limit: 1000 })).runs;
    expect(runs).toHaveLength(101);
    expect(runs.filter((run) => run.status === 'completed')).toHaveLength(1);
    expect(runs.filter((run) => run.status === 'cancelled')).toHaveLength(100);
    const last = (await rt.transcript('w', { tail: 1 })).items[0];
    expect(last?.content).toMatch(/^echo: interrupt \d+$/);
  }, 60_000);

  test('interrupts on an idle worker with nothing running start at once', async () => {
    const { rt, tracker } = await slowWorker(20);
    const { ok, codes } = await typedOutcomes(
      Array.from({ length: 10 }, (_, i) => rt.sendInput('w', { kind: 'user', content: `i${i}`, on_busy: 'interrupt' })),
    );
    expect(codes).toEqual([]);
    expect(ok).toHaveLength(10);
    await settle(rt);
    expect(tracker.max).toBe(1);
  });
});

describe('mixed storms', () => {
  test('interrupts racing cancels, enqueues, rejects and queue drain get typed answers only', async () => {
    const { rt, tracker } = await slowWorker(30);
    const policies: InputRequest['on_busy'][] = ['interrupt', 'enqueue', 'reject', 'interrupt', 'enqueue'];
    const requests: Promise<unknown>[] = [];
    for (let i = 0; i < 150; i++) {
      const on_busy = policies[i % policies.length];
      requests.push(handled(rt.sendInput('w', { kind: i % 17 === 0 ? 'system' : 'user', content: `m${i}`, on_busy })));
      if (i % 7 === 0) requests.push(handled(rt.cancelWorker('w', { reason: `cancel ${i}` })));
      if (i % 25 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const { codes } = await typedOutcomes(requests);
    expect(codes.every((code) => ['worker_busy', 'queue_full'].includes(code))).toBe(true);
    await settle(rt);
    expect(tracker.max).toBe(1);
    const runs = (await rt.listRuns('w', { limit: 1000 })).runs;
    expect(runs.every((run) => run.status !== 'running' && run.status !== 'queued')).toBe(true);
  }, 60_000);

  test('stop racing inputs and interrupts: typed answers, then stopped with nothing running or queued', async () => {
    const { rt, tracker } = await slowWorker(50);
    await rt.sendInput('w', { kind: 'user', content: 'first' });
    const requests: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const on_busy = (['interrupt', 'enqueue', 'reject'] as const)[i % 3];
      requests.push(rt.sendInput('w', { kind: 'user', content: `m${i}`, on_busy }));
      if (i === 30) requests.push(rt.stopWorker('w', { reason: 'enough' }));
      if (i % 10 === 0) requests.push(rt.cancelWorker('w'));
    }
    requests.push(rt.stopWorker('w'));
    const { codes } = await typedOutcomes(requests);
    expect(codes.every((code) => ['worker_busy', 'queue_full', 'worker_stopped'].includes(code))).toBe(true);
    const detail = await rt.getWorker('w');
    expect(detail).toMatchObject({ status: 'stopped', active_run: null, queued_inputs: 0 });
    expect(tracker.max).toBe(1);
    expect(tracker.running).toBe(0);
    const runs = (await rt.listRuns('w', { limit: 1000 })).runs;
    expect(runs.every((run) => run.status !== 'running' && run.status !== 'queued')).toBe(true);
    await expect(rt.sendInput('w', { kind: 'user', content: 'late', on_busy: 'interrupt' })).rejects.toMatchObject({
      code: 'worker_stopped',
    });
  }, 60_000);
});
