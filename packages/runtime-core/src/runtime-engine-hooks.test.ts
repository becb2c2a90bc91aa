import { afterEach, describe, expect, test } from 'vitest';
import type { WorkerEngine } from './engine.js';
import { Runtime } from './runtime.js';
import type { WorkerRef } from './schemas/common.js';
import { createGateEngine } from './testing/test-engines.js';

const open: Runtime[] = [];
afterEach(async () => {
  for (const rt of open.splice(0)) await rt.close({ grace_ms: 50 });
});

const create = {
  worker_id: 'w',
  intent: { kind: 'assistant' as const },
  profile: { kind: 'runtime_default' as const },
};

async function withEngine(engine: WorkerEngine, profile: Record<string, unknown> = {}): Promise<Runtime> {
  const rt = await Runtime.open({
    engines: [engine],
    profiles: { main: { engine: engine.name, ...profile } },
    default_profile: 'main',
  });
  open.push(rt);
  await rt.createWorker(create);
  return rt;
}

describe('tool-call transcript fields', () => {
  test('are stored and read back only when given', async () => {
    const engine: WorkerEngine = {
      name: 'tools',
      async run(run) {
        await run.append({
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 'c1', name: 'fs__read', arguments: '{"path":"a"}' }],
        });
        await run.append({
          role: 'tool',
          content: 'no such file',
          tool_call_id: 'c1',
          name: 'fs__read',
          is_error: true,
        });
        await run.append({ role: 'tool', content: 'ok', tool_call_id: 'c2', name: 'fs__list', is_error: false });
        const history = await run.history(10);
        await run.append({ role: 'assistant', content: JSON.stringify(history.map((e) => Object.keys(e).sort())) });
      },
    };
    const rt = await withEngine(engine);
    const ack = await rt.sendInput('w', { kind: 'user', content: 'go' });
    expect(await rt.getRun('w', ack.run_id as string, { wait_ms: 5000 })).toMatchObject({ status: 'completed' });
    const items = (await rt.transcript('w')).items;
    expect(items[0]).not.toHaveProperty('tool_calls');
    expect(items[1]).toMatchObject({
      role: 'assistant',
      content: '',
      tool_calls: [{ id: 'c1', name: 'fs__read', arguments: '{"path":"a"}' }],
    });
    expect(items[2]).toMatchObject({ role: 'tool', tool_call_id: 'c1', name: 'fs__read', is_error: true });
    expect(items[3]).toMatchObject({ role: 'tool', tool_call_id: 'c2', name: 'fs__list' });
    expect(items[3]).not.toHaveProperty('is_error');
    // history() hands the engine the same fields.
    const keys = JSON.parse(items[4]?.content ?? '[]') as string[][];
    expect(keys[1]).toContain('tool_calls');
    expect(keys[2]).toEqual(expect.arrayContaining(['tool_call_id', 'name', 'is_error']));
  });

  test('a malformed tool call fails the run', async () => {
    const engine: WorkerEngine = {
      name: 'bad',
      async run(run) {
        await run.append({ role: 'assistant', content: '', tool_calls: [{ id: 'c1', name: 'x' }] } as never);
      },
    };
    const rt = await withEngine(engine);
    const ack = await rt.sendInput('w', { kind: 'user', content: 'go' });
    expect(await rt.getRun('w', ack.run_id as string, { wait_ms: 5000 })).toMatchObject({
      status: 'failed',
      error: { message: 'invalid transcript entry: tool_calls.0.arguments: is required' },
    });
    expect((await rt.transcript('w')).total_items).toBe(1);
  });
});

describe('delta', () => {
  test('counts as progress for the idle timeout', async () => {
    const engine: WorkerEngine = {
      name: 'streamer',
      async run(run) {
        for (let i = 0; i < 8; i++) {
          await new Promise((resolve) => setTimeout(resolve, 60));
          run.delta(`${i} `);
        }
        await run.append({ role: 'assistant', content: 'done' });
      },
    };
    const rt = await withEngine(engine, { idle_timeout_ms: 300 });
    const ack = await rt.sendInput('w', { kind: 'user', content: 'go' });
    expect(await rt.getRun('w', ack.run_id as string, { wait_ms: 5000 })).toMatchObject({ status: 'completed' });
  });
});

describe('engine lifecycle hooks', () => {
  test('releaseWorker runs after a stop, close() at Runtime#close', async () => {
    const gate = createGateEngine();
    const calls: string[] = [];
    const engine: WorkerEngine = {
      name: gate.name,
      run: (run) => gate.run(run),
      async releaseWorker(ref: WorkerRef) {
        calls.push(`release ${ref.worker_id}`);
      },
      async close() {
        calls.push('close');
      },
    };
    const rt = await withEngine(engine);
    await rt.sendInput('w', { kind: 'user', content: 'long' });
    await gate.started(0);
    await rt.stopWorker('w');
    await expect.poll(() => calls).toEqual(['release w']);
    await rt.close();
    expect(calls).toEqual(['release w', 'close']);
  });

  test('a failing releaseWorker becomes a warning diagnostic, never an error', async () => {
    const engine: WorkerEngine = {
      name: 'leaky',
      async run() {},
      async releaseWorker() {
        throw new Error('/secret/path exploded');
      },
    };
    const rt = await withEngine(engine);
    const ack = await rt.stopWorker('w');
    expect(ack.status).toBe('stopped');
    await expect
      .poll(async () => (await rt.diagnostics()).find((d) => d.code === 'engine.release_failed'))
      .toMatchObject({ severity: 'warning', worker_ref: { worker_id: 'w' } });
    const diagnostic = (await rt.diagnostics()).find((d) => d.code === 'engine.release_failed');
    expect(diagnostic?.message).not.toContain('/secret');
  });
});
