import { afterEach, describe, expect, test } from 'vitest';
import type { WorkerEngine } from './engine.js';
import { Runtime, type RuntimeOptions } from './runtime.js';
import { createGateEngine, type GateEngine } from './testing/test-engines.js';

const open: Runtime[] = [];
afterEach(async () => {
  for (const rt of open.splice(0)) await rt.close({ grace_ms: 50 });
});

async function gated(
  options: RuntimeOptions & { ignoreAbort?: boolean; profile?: Record<string, unknown> } = {},
): Promise<{ rt: Runtime; gate: GateEngine }> {
  const { ignoreAbort = false, profile = {}, ...rest } = options;
  const gate = createGateEngine({ ignoreAbort });
  const rt = await Runtime.open({
    engines: [gate],
    profiles: { gated: { engine: 'gate', ...profile } },
    default_profile: 'gated',
    ...rest,
  });
  open.push(rt);
  await rt.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  return { rt, gate };
}

describe('cancel', () => {
  test('aborts the active run, which ends cancelled; the worker is idle again', async () => {
    const { rt, gate } = await gated();
    const ack = await rt.sendInput('w', { kind: 'user', content: 'long' });
    const started = await gate.started(0);
    const cancel = await rt.cancelWorker('w', { reason: 'user pressed stop' });
    expect(started.run.signal.aborted).toBe(true);
    expect(cancel).toMatchObject({ worker_ref: { worker_id: 'w' }, status: 'idle', run_id: ack.run_id });
    expect(cancel.event_id).toEqual(expect.any(Number));
    expect(await rt.getRun('w', ack.run_id as string)).toMatchObject({
      status: 'cancelled',
      error: { message: 'user pressed stop' },
    });
    const event = (await rt.readEvents({ after: (cancel.event_id as number) - 1, limit: 1 })).items[0];
    expect(event).toMatchObject({ kind: 'run_cancelled', run_id: ack.run_id });
  });

  test('with no active run answers with run_id null and changes nothing', async () => {
    const { rt } = await gated();
    const before = (await rt.summary()).last_event_id;
    expect(await rt.cancelWorker('w')).toMatchObject({ status: 'idle', run_id: null, event_id: null });
    expect((await rt.summary()).last_event_id).toBe(before);
  });

  test('fences a slow engine: output written after the abort never reaches the transcript', async () => {
    const { rt, gate } = await gated({ ignoreAbort: true, limits: { cancel_grace_ms: 10_000 } });
    const ack = await rt.sendInput('w', { kind: 'user', content: 'slow' });
    const started = await gate.started(0);
    const cancelling = rt.cancelWorker('w');
    while (!started.run.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 1));
    started.release(); // inside the grace period the engine tries to append "late:slow"
    const cancel = await cancelling; // resolves once the engine stopped, long before the grace ends
    expect(cancel.run_id).toBe(ack.run_id);
    expect((await rt.transcript('w')).items.map((e) => e.content)).toEqual(['slow']);
    expect(await rt.getRun('w', ack.run_id as string)).toMatchObject({ status: 'cancelled', output_entries: 0 });
  });

  test('an engine that ignores the abort is fenced after cancel_grace_ms', async () => {
    const { rt, gate } = await gated({ ignoreAbort: true, limits: { cancel_grace_ms: 30 } });
    const ack = await rt.sendInput('w', { kind: 'user', content: 'stuck' });
    const started = await gate.started(0);
    expect(await rt.cancelWorker('w')).toMatchObject({ run_id: ack.run_id, status: 'idle' });
    started.release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await rt.transcript('w')).items.map((e) => e.content)).toEqual(['stuck']);
  });

  test('the queue continues after a cancel', async () => {
    const { rt, gate } = await gated();
    await rt.sendInput('w', { kind: 'user', content: 'a' });
    const b = await rt.sendInput('w', { kind: 'user', content: 'b', on_busy: 'enqueue' });
    await gate.started(0);
    // The ack already reflects the queued input that started in the cancelled run's place.
    expect(await rt.cancelWorker('w')).toMatchObject({ status: 'running' });
    expect((await rt.getWorker('w')).active_run?.run_id).toBe(b.run_id);
    (await gate.started(1)).release();
    expect(await rt.getRun('w', b.run_id as string, { wait_ms: 5000 })).toMatchObject({ status: 'completed' });
  });
});

describe('stop', () => {
  test('cancels the active run and queued inputs, then is terminal; a repeat returns the same event id', async () => {
    const { rt, gate } = await gated();
    const a = await rt.sendInput('w', { kind: 'user', content: 'a' });
    const b = await rt.sendInput('w', { kind: 'user', content: 'b', on_busy: 'enqueue' });
    await gate.started(0);
    const stop = await rt.stopWorker('w', { reason: 'shutting down' });
    expect(stop).toMatchObject({ status: 'stopped', run_id: a.run_id });
    expect(await rt.getRun('w', a.run_id as string)).toMatchObject({ status: 'cancelled' });
    expect(await rt.getRun('w', b.run_id as string)).toMatchObject({ status: 'cancelled' });
    expect(await rt.getWorker('w')).toMatchObject({ status: 'stopped', active_run: null, queued_inputs: 0 });
    const again = await rt.stopWorker('w');
    expect(again).toEqual({ ...stop, run_id: null });
    const last = (await rt.summary()).last_event_id;
    expect(await rt.cancelWorker('w')).toMatchObject({ status: 'stopped', run_id: null, event_id: null });
    expect((await rt.summary()).last_event_id).toBe(last);
    expect(gate.runs).toHaveLength(1);
    expect((await rt.transcript('w')).total_items).toBe(1);
  });

  test('concurrent stops agree on one event', async () => {
    const { rt } = await gated();
    await rt.sendInput('w', { kind: 'user', content: 'a' });
    const acks = await Promise.all([rt.stopWorker('w'), rt.stopWorker('w'), rt.stopWorker('w')]);
    expect(new Set(acks.map((ack) => ack.event_id)).size).toBe(1);
    const stops = (await rt.readEvents({ limit: 1000 })).items.filter((e) => e.kind === 'worker_stopped');
    expect(stops).toHaveLength(1);
  });
});

describe('timeouts', () => {
  test('profile run_timeout_ms aborts the run as timed_out', async () => {
    const { rt, gate } = await gated({ profile: { run_timeout_ms: 40 } });
    const ack = await rt.sendInput('w', { kind: 'user', content: 'x' });
    const run = await rt.getRun('w', ack.run_id as string, { wait_ms: 5000 });
    expect(run).toMatchObject({ status: 'timed_out', error: { code: 'timed_out' } });
    expect(gate.runs[0]?.run.signal.aborted).toBe(true);
    expect((await rt.readEvents({ worker_id: 'w' })).items.map((e) => e.kind)).toContain('run_timed_out');
  });

  test('an input timeout_ms shortens the run timeout', async () => {
    const { rt } = await gated({ profile: { run_timeout_ms: 60_000 } });
    const ack = await rt.sendInput('w', { kind: 'user', content: 'x', timeout_ms: 30 });
    expect(await rt.getRun('w', ack.run_id as string, { wait_ms: 5000 })).toMatchObject({ status: 'timed_out' });
  });

  test('idle_timeout_ms fires when the engine makes no progress, and output resets it', async () => {
    const chatty: WorkerEngine = {
      name: 'chatty',
      async run(run) {
        for (let i = 0; i < 4; i++) {
          await new Promise((resolve) => setTimeout(resolve, 25));
          await run.append({ role: 'assistant', content: `tick ${i}` });
        }
        await new Promise((_resolve, reject) => {
          run.signal.addEventListener('abort', () => reject(run.signal.reason));
        });
      },
    };
    const rt = await Runtime.open({
      engines: [chatty],
      profiles: { chatty: { engine: 'chatty', idle_timeout_ms: 80 } },
    });
    open.push(rt);
    await rt.createWorker({
      worker_id: 'c',
      intent: { kind: 'assistant' },
      profile: { kind: 'named', value: 'chatty' },
    });
    const ack = await rt.sendInput('c', { kind: 'user', content: 'go' });
    const run = await rt.getRun('c', ack.run_id as string, { wait_ms: 5000 });
    expect(run).toMatchObject({ status: 'timed_out', error: { code: 'idle_timeout' }, output_entries: 4 });
  });
});

describe('close', () => {
  test('interrupts active runs, keeps queued ones queued, and refuses new mutations', async () => {
    const { rt, gate } = await gated();
    const a = await rt.sendInput('w', { kind: 'user', content: 'a' });
    const b = await rt.sendInput('w', { kind: 'user', content: 'b', on_busy: 'enqueue' });
    await gate.started(0);
    await rt.close();
    expect(rt.status).toBe('closed');
    expect(gate.runs).toHaveLength(1);
    await expect(rt.sendInput('w', { kind: 'user', content: 'c' })).rejects.toMatchObject({
      code: 'runtime_unavailable',
    });
    await expect(
      rt.createWorker({ intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } }),
    ).rejects.toMatchObject({
      code: 'runtime_unavailable',
    });
    expect(await rt.getRun('w', a.run_id as string)).toMatchObject({ status: 'interrupted' });
    expect(await rt.getRun('w', b.run_id as string)).toMatchObject({ status: 'queued' });
  });

  test('an engine that ignores abort cannot hold close beyond the grace period', async () => {
    const { rt, gate } = await gated({ ignoreAbort: true });
    await rt.sendInput('w', { kind: 'user', content: 'a' });
    await gate.started(0);
    await rt.close({ grace_ms: 20 });
    expect(rt.status).toBe('closed');
  });
});
