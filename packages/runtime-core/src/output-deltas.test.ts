import { expect, test } from 'vitest';
import type { WorkerEngine } from './engine.js';
import { InputAdmission } from './input-admission.js';
import type { OutputDelta } from './output-deltas.js';
import { closeRuntime, openRuntime } from './runtime-lifecycle.js';
import { getRun } from './runtime-reads.js';
import { WorkerCreation } from './worker-creation.js';

test('deltas are numbered by entry (advanced by each assistant append) and offset, and dropped once fenced', async () => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const engine: WorkerEngine = {
    name: 'streamer',
    async run(run) {
      run.delta('Hel');
      run.delta('');
      run.delta('lo');
      await run.append({ role: 'assistant', content: 'Hello' });
      await run.append({ role: 'tool', content: 'result', tool_call_id: 'c', name: 't' });
      run.delta('Second');
      await run.append({ role: 'assistant', content: 'Second' });
      run.delta('late ');
      await held;
      run.delta('after abort');
    },
  };
  const ctx = await openRuntime({ engines: [engine], profiles: { s: { engine: 'streamer' } }, default_profile: 's' });
  try {
    const deltas: OutputDelta[] = [];
    const unsubscribe = ctx.deltas.subscribe((delta) => deltas.push(delta));
    ctx.deltas.subscribe(() => {
      throw new Error('a failing listener is skipped');
    });
    await new WorkerCreation(ctx).create({
      worker_id: 'w',
      intent: { kind: 'assistant' },
      profile: { kind: 'runtime_default' },
    });
    const ack = await new InputAdmission(ctx).send('w', { kind: 'user', content: 'go' });
    await expect.poll(() => deltas.length).toBe(4);
    const active = ctx.workers.get('w').active;
    if (active)
      ctx.executor.abort(ctx.workers.get('w'), active, {
        status: 'cancelled',
        error: { code: 'cancelled', message: 'stop' },
      });
    release();
    await getRun(ctx, 'w', ack.run_id as string, { wait_ms: 5000 });
    unsubscribe();
    const run_id = ack.run_id;
    expect(deltas.map(({ entry, offset, content }) => [entry, offset, content])).toEqual([
      [0, 0, 'Hel'],
      [0, 3, 'lo'],
      [1, 0, 'Second'],
      [2, 0, 'late '],
    ]);
    expect(deltas.every((delta) => delta.run_id === run_id && delta.worker_ref.worker_id === 'w')).toBe(true);
  } finally {
    await closeRuntime(ctx, 50);
  }
});
