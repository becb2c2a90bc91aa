import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runtime, WatchItem } from '@worker-runtime/core';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { entries, finishedRun, openRuntime, startRun } from './test-helpers.js';

const NODE = process.execPath;

let runtime: Runtime | undefined;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engines-command-stream-'));
});

afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Opens a runtime with one `command` profile running `source` under Node.js, and a watch on everything. */
async function streaming(source: string, options: Record<string, unknown> = {}, args: string[] = []) {
  runtime = await openRuntime({ p: { engine: 'command', command: [NODE, '-e', source, ...args], ...options } });
  const watch = runtime.watch({});
  await watch.ready();
  return { rt: runtime, watch };
}

async function untilRunEnds(watch: AsyncIterable<WatchItem>): Promise<WatchItem[]> {
  const items: WatchItem[] = [];
  for await (const item of watch) {
    items.push(item);
    if (item.type === 'event' && item.event.kind.startsWith('run_') && item.event.kind !== 'run_started') break;
  }
  return items;
}

async function nextDelta(watch: AsyncIterator<WatchItem>): Promise<WatchItem> {
  for (;;) {
    const next = await watch.next();
    if (next.done) throw new Error('the watch ended before a delta');
    if (next.value.type === 'delta') return next.value;
  }
}

function deltas(items: WatchItem[]): { entry: number; offset: number; content: string }[] {
  return items.flatMap((item) =>
    item.type === 'delta' ? [{ entry: item.entry, offset: item.offset, content: item.content }] : [],
  );
}

describe('command engine: streaming', () => {
  test('text output streams each stdout chunk while the program runs; the deltas are the entry', async () => {
    const gate = join(dir, 'gate');
    // The first chunk ends inside "ö"; the rest is written once the test saw the first delta.
    const source = `
      const fs = require('node:fs');
      const bytes = Buffer.from('hello wörld\\r\\nbye\\n');
      process.stdout.write(bytes.subarray(0, 8));
      const timer = setInterval(() => {
        if (!fs.existsSync(process.argv[1])) return;
        clearInterval(timer);
        process.stdout.write(bytes.subarray(8));
      }, 10);`;
    const { rt, watch } = await streaming(source, {}, [gate]);
    const { worker_id, run_id } = await startRun(rt, 'p', 'go');
    expect(await nextDelta(watch)).toMatchObject({ type: 'delta', run_id, entry: 0, offset: 0, content: 'hello w' });
    expect((await rt.getRun(worker_id, run_id)).status).toBe('running');
    await writeFile(gate, '');
    const rest = deltas(await untilRunEnds(watch));
    expect((await finishedRun(rt, worker_id, run_id)).status).toBe('completed');
    const entry = (await entries(rt, worker_id))[1]?.content;
    expect(entry).toBe('hello wörld\r\nbye');
    expect(`hello w${rest.map((d) => d.content).join('')}`).toBe(entry);
    expect(rest[0]?.offset).toBe(7);
  });

  test('jsonl {"delta"} lines stream the entry that the next {role, content} line appends', async () => {
    const lines = [
      { delta: 'Hel' },
      { delta: 'lo' },
      { role: 'assistant', content: 'Hello' },
      { delta: 'Bye' },
      { role: 'assistant', content: 'Bye' },
    ];
    const source = `for (const line of ${JSON.stringify(lines)}) console.log(JSON.stringify(line));`;
    const { rt, watch } = await streaming(source, { output: 'jsonl' });
    const { worker_id } = await startRun(rt, 'p', 'go');
    const items = await untilRunEnds(watch);
    expect(deltas(items)).toEqual([
      { entry: 0, offset: 0, content: 'Hel' },
      { entry: 0, offset: 3, content: 'lo' },
      { entry: 1, offset: 0, content: 'Bye' },
    ]);
    expect((await entries(rt, worker_id)).map((e) => e.content)).toEqual(['go', 'Hello', 'Bye']);
    // Each delta comes before the durable event of the entry it belongs to.
    const kinds = items.map((item) => (item.type === 'delta' ? 'delta' : item.event.kind));
    expect(kinds.slice(kinds.indexOf('delta'))).toEqual([
      'delta',
      'delta',
      'transcript_appended',
      'delta',
      'transcript_appended',
      'run_completed',
    ]);
  });

  test('a jsonl delta that is not a string fails the run', async () => {
    const { rt } = await streaming(`console.log(JSON.stringify({ delta: 5 }))`, { output: 'jsonl' });
    const { worker_id, run_id } = await startRun(rt, 'p', 'go');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('failed');
    expect(run.error?.message).toBe(`line 1 of the command's output has a "delta" that is not a string: {"delta":5}`);
  });
});
