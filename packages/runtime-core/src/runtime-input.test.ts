import { afterEach, describe, expect, test } from 'vitest';
import { Runtime, type RuntimeOptions } from './runtime.js';
import { createGateEngine, type GateEngine } from './testing/test-engines.js';

const open: Runtime[] = [];
afterEach(async () => {
  for (const rt of open.splice(0)) await rt.close({ grace_ms: 50 });
});

async function gated(options: RuntimeOptions = {}): Promise<{ rt: Runtime; gate: GateEngine }> {
  const gate = createGateEngine();
  const rt = await Runtime.open({
    engines: [gate],
    profiles: { gated: { engine: 'gate' } },
    default_profile: 'gated',
    ...options,
  });
  open.push(rt);
  await rt.createWorker({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
  return { rt, gate };
}

describe('sending input', () => {
  test('a user input starts a run whose reply lands in the transcript', async () => {
    const { rt, gate } = await gated();
    const ack = await rt.sendInput('w', { kind: 'user', content: 'hi' });
    expect(ack).toMatchObject({
      worker_ref: { runtime_id: rt.runtime_id, worker_id: 'w' },
      status: 'running',
      run_status: 'running',
      transcript_sequence: 1,
      queue_position: null,
      replayed: false,
    });
    expect((await rt.getWorker('w')).active_run).toMatchObject({
      run_id: ack.run_id,
      status: 'running',
      input_sequence: 1,
    });
    (await gate.started(0)).release();
    const run = await rt.getRun('w', ack.run_id as string, { wait_ms: 5000 });
    expect(run).toMatchObject({ status: 'completed', output_entries: 1, error: null });
    expect(run.ended_at).not.toBeNull();
    expect((await rt.transcript('w')).items.map((e) => [e.role, e.content, e.run_id])).toEqual([
      ['user', 'hi', ack.run_id],
      ['assistant', 'reply:hi', ack.run_id],
    ]);
    const detail = await rt.getWorker('w');
    expect(detail).toMatchObject({
      status: 'idle',
      active_run: null,
      transcript_len: 2,
      last_run: { run_id: ack.run_id },
    });
  });

  test('a system input is appended without a run', async () => {
    const { rt, gate } = await gated();
    const ack = await rt.sendInput('w', { kind: 'system', content: 'be brief' });
    expect(ack).toMatchObject({ run_id: null, run_status: null, transcript_sequence: 1, status: 'idle' });
    expect(gate.runs).toHaveLength(0);
    expect((await rt.transcript('w')).items).toEqual([
      expect.objectContaining({ role: 'system', content: 'be brief', run_id: null }),
    ]);
  });

  test('rejects a second input while a run is active, naming the active run', async () => {
    const { rt } = await gated();
    const first = await rt.sendInput('w', { kind: 'user', content: 'one' });
    await expect(rt.sendInput('w', { kind: 'user', content: 'two' })).rejects.toMatchObject({
      code: 'worker_busy',
      details: { active_run_id: first.run_id },
    });
    expect((await rt.getWorker('w')).transcript_len).toBe(1);
  });

  test('100 concurrent inputs on an idle worker: exactly one is accepted', async () => {
    const { rt } = await gated();
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) => rt.sendInput('w', { kind: 'user', content: `m${i}` })),
    );
    const accepted = results.filter((r) => r.status === 'fulfilled');
    expect(accepted).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.every((r) => r.reason.code === 'worker_busy')).toBe(true);
    expect((await rt.getWorker('w')).transcript_len).toBe(1);
  });

  test('enqueued inputs run in FIFO order; the queue is bounded by max_queued_inputs', async () => {
    const { rt, gate } = await gated({ limits: { max_queued_inputs: 2 } });
    await rt.sendInput('w', { kind: 'user', content: 'a' });
    const b = await rt.sendInput('w', { kind: 'user', content: 'b', on_busy: 'enqueue' });
    const c = await rt.sendInput('w', { kind: 'user', content: 'c', on_busy: 'enqueue' });
    expect([b.queue_position, c.queue_position]).toEqual([1, 2]);
    expect(b).toMatchObject({ run_status: 'queued', transcript_sequence: null, status: 'running' });
    await expect(rt.sendInput('w', { kind: 'user', content: 'd', on_busy: 'enqueue' })).rejects.toMatchObject({
      code: 'queue_full',
    });
    expect((await rt.getWorker('w')).queued_inputs).toBe(2);
    for (let i = 0; i < 3; i++) (await gate.started(i)).release();
    await rt.getRun('w', c.run_id as string, { wait_ms: 5000 });
    expect((await rt.transcript('w')).items.map((e) => e.content)).toEqual([
      'a',
      'reply:a',
      'b',
      'reply:b',
      'c',
      'reply:c',
    ]);
    expect((await rt.listRuns('w')).runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
  });

  test('interrupt cancels the active run and starts the new input before the queue', async () => {
    const { rt, gate } = await gated();
    const first = await rt.sendInput('w', { kind: 'user', content: 'first' });
    const queued = await rt.sendInput('w', { kind: 'user', content: 'queued', on_busy: 'enqueue' });
    const urgent = await rt.sendInput('w', { kind: 'user', content: 'urgent', on_busy: 'interrupt' });
    expect(urgent).toMatchObject({ run_status: 'running', status: 'running' });
    expect(await rt.getRun('w', first.run_id as string)).toMatchObject({ status: 'cancelled' });
    expect(gate.runs[0]?.run.signal.aborted).toBe(true);
    (await gate.started(1)).release();
    (await gate.started(2)).release();
    await rt.getRun('w', queued.run_id as string, { wait_ms: 5000 });
    expect((await rt.transcript('w')).items.map((e) => e.content)).toEqual([
      'first',
      'urgent',
      'reply:urgent',
      'queued',
      'reply:queued',
    ]);
  });

  test('interrupt on an idle worker just starts the run', async () => {
    const { rt } = await gated();
    const ack = await rt.sendInput('w', { kind: 'user', content: 'x', on_busy: 'interrupt' });
    expect(ack.run_status).toBe('running');
  });

  test('an idempotency key replays the original ack; a different body conflicts', async () => {
    const { rt, gate } = await gated();
    const ack = await rt.sendInput('w', { kind: 'user', content: 'once', idempotency_key: 'k' });
    const replay = await rt.sendInput('w', { kind: 'user', content: 'once', idempotency_key: 'k' });
    expect(replay).toEqual({ ...ack, replayed: true });
    await expect(rt.sendInput('w', { kind: 'user', content: 'twice', idempotency_key: 'k' })).rejects.toMatchObject({
      code: 'idempotency_conflict',
    });
    await expect(
      rt.sendInput('w', { kind: 'user', content: 'once', idempotency_key: 'k', on_busy: 'enqueue' }),
    ).rejects.toMatchObject({
      code: 'idempotency_conflict',
    });
    expect(gate.runs).toHaveLength(1);
    expect((await rt.getWorker('w')).transcript_len).toBe(1);
    expect((await rt.getRun('w', ack.run_id as string)).idempotency_key).toBe('k');
  });

  test('idempotency keys are scoped to the worker', async () => {
    const { rt } = await gated();
    await rt.createWorker({
      worker_id: 'other',
      intent: { kind: 'assistant' },
      profile: { kind: 'builtin', value: 'echo' },
    });
    const a = await rt.sendInput('w', { kind: 'user', content: 'x', idempotency_key: 'k' });
    const b = await rt.sendInput('other', { kind: 'user', content: 'x', idempotency_key: 'k' });
    expect(b.replayed).toBe(false);
    expect(b.run_id).not.toBe(a.run_id);
  });

  test.each([
    [{ kind: 'user', content: '' }],
    [{ kind: 'robot', content: 'x' }],
    [{ kind: 'user', content: 'x', on_busy: 'sometimes' }],
    [{ kind: 'user', content: 'x', idempotency_key: 'k'.repeat(129) }],
    [{ kind: 'user', content: 'x', timeout_ms: 0 }],
    [{ kind: 'user', content: 'x', surprise: 1 }],
    [{ kind: 'user', content: 'x', timeout_ms: 2 ** 31 }],
  ])('rejects invalid input %j and changes nothing', async (input) => {
    const { rt } = await gated();
    await expect(rt.sendInput('w', input as never)).rejects.toMatchObject({ code: 'invalid_request' });
    expect((await rt.getWorker('w')).transcript_len).toBe(0);
  });

  test('validation messages never echo the value that was sent', async () => {
    const { rt } = await gated();
    const secret = `secret-${'x'.repeat(10_000)}`;
    const error = await rt.sendInput('w', { kind: secret, content: 'x' } as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_request' });
    expect(JSON.stringify((error as { toJSON(): unknown }).toJSON())).not.toContain('secret-');
  });

  test('rejects content above max_input_bytes counted in UTF-8 bytes', async () => {
    const { rt } = await gated({ limits: { max_input_bytes: 4 } });
    await expect(rt.sendInput('w', { kind: 'user', content: 'ééé' })).rejects.toMatchObject({
      code: 'invalid_request',
    });
    await expect(rt.sendInput('w', { kind: 'system', content: 'éé' })).resolves.toMatchObject({
      transcript_sequence: 1,
    });
  });

  test('input to an unknown or stopped worker fails', async () => {
    const { rt } = await gated();
    await expect(rt.sendInput('ghost', { kind: 'user', content: 'x' })).rejects.toMatchObject({
      code: 'worker_not_found',
    });
    await rt.stopWorker('w');
    await expect(rt.sendInput('w', { kind: 'user', content: 'x' })).rejects.toMatchObject({ code: 'worker_stopped' });
    await expect(rt.sendInput('w', { kind: 'system', content: 'x' })).rejects.toMatchObject({ code: 'worker_stopped' });
  });

  test('an engine that throws fails the run with its message and the worker goes on', async () => {
    const { rt, gate } = await gated();
    const bad = await rt.sendInput('w', { kind: 'user', content: 'boom' });
    (await gate.started(0)).fail('engine exploded');
    expect(await rt.getRun('w', bad.run_id as string, { wait_ms: 5000 })).toMatchObject({
      status: 'failed',
      error: { message: 'engine exploded' },
    });
    const good = await rt.sendInput('w', { kind: 'user', content: 'fine' });
    (await gate.started(1)).release();
    expect(await rt.getRun('w', good.run_id as string, { wait_ms: 5000 })).toMatchObject({ status: 'completed' });
    const kinds = (await rt.readEvents({ worker_id: 'w' })).items.map((e) => e.kind);
    expect(kinds).toContain('run_failed');
  });

  test('runs page oldest first with a cursor; unknown runs are not found', async () => {
    const { rt, gate } = await gated();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const ack = await rt.sendInput('w', { kind: 'user', content: `m${i}` });
      (await gate.started(i)).release();
      await rt.getRun('w', ack.run_id as string, { wait_ms: 5000 });
      ids.push(ack.run_id as string);
    }
    const first = await rt.listRuns('w', { limit: 2 });
    expect(first.runs.map((r) => r.run_id)).toEqual(ids.slice(0, 2));
    const second = await rt.listRuns('w', { limit: 2, cursor: first.next_cursor as string });
    expect(second).toMatchObject({ next_cursor: null });
    expect(second.runs.map((r) => r.run_id)).toEqual(ids.slice(2));
    await expect(rt.getRun('w', 'missing-run')).rejects.toMatchObject({ code: 'run_not_found' });
    await expect(rt.getRun('w', '../x')).rejects.toMatchObject({ code: 'invalid_id' });
  });
});
