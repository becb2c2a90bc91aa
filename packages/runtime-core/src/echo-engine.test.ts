import { afterEach, describe, expect, test } from 'vitest';
import { Runtime } from './runtime.js';
import type { WatchItem } from './schemas/stream.js';

let rt: Runtime | null = null;
afterEach(async () => {
  await rt?.close({ grace_ms: 50 });
  rt = null;
});

async function streamingWorker(stream_chunk_ms: number): Promise<Runtime> {
  rt = await Runtime.open({ profiles: { streamed: { engine: 'echo', stream_chunk_ms } } });
  await rt.createWorker({
    worker_id: 'w',
    intent: { kind: 'assistant' },
    profile: { kind: 'named', value: 'streamed' },
  });
  return rt;
}

describe('echo engine streaming', () => {
  test('with stream_chunk_ms the reply streams word by word, then is appended whole', async () => {
    const runtime = await streamingWorker(2);
    const watch = runtime.watch({ worker_id: 'w' });
    await watch.ready();
    await runtime.sendInput('w', { kind: 'user', content: '  one two\tthree ' });
    const items: WatchItem[] = [];
    for await (const item of watch) {
      items.push(item);
      if (item.type === 'event' && item.event.kind === 'run_completed') break;
    }
    const deltas = items.flatMap((item) => (item.type === 'delta' ? [item] : []));
    expect(deltas.map((d) => d.content)).toEqual(['echo:   ', 'one ', 'two\t', 'three ']);
    expect(deltas.map((d) => d.offset)).toEqual([0, 8, 12, 16]);
    const reply = (await runtime.transcript('w')).items.at(-1);
    expect(reply).toMatchObject({ role: 'assistant', content: 'echo:   one two\tthree ' });
    expect(deltas.map((d) => d.content).join('')).toBe(reply?.content);
  });

  test('a cancel mid-stream stops it: no more deltas, no entry', async () => {
    const runtime = await streamingWorker(60_000);
    const watch = runtime.watch({ worker_id: 'w' });
    await watch.ready();
    const ack = await runtime.sendInput('w', { kind: 'user', content: 'never finished' });
    const items: WatchItem[] = [];
    for await (const item of watch) {
      items.push(item);
      if (item.type === 'delta') await runtime.cancelWorker('w');
      if (item.type === 'event' && item.event.kind === 'run_cancelled') break;
    }
    expect(items.filter((item) => item.type === 'delta').map((d) => d.type === 'delta' && d.content)).toEqual([
      'echo: ',
    ]);
    expect((await runtime.getRun('w', ack.run_id as string)).output_entries).toBe(0);
  });
});
