import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runtime, WatchItem } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import {
  entries,
  finishedRun,
  printingJsonl,
  startRun,
  TWO_STREAMED_ENTRIES,
  untilRunEnds,
  useRuntimePerTest,
} from './test-helpers.js';

const NODE = process.execPath;

const scope = useRuntimePerTest('engines-command-stream-');

/** Opens a runtime with one `command` profile running `source` under Node.js, and a watch on everything. */
async function streaming(source: string, options: Record<string, unknown> = {}, args: string[] = []) {
  const rt: Runtime = await scope.open({
    p: { engine: 'command', command: [NODE, '-e', source, ...args], ...options },
  });
  const watch = rt.watch({});
  await watch.ready();
  return { rt, watch };
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
    const gate = join(scope.dir(), 'gate');
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
    const { rt, watch } = await streaming(printingJsonl(TWO_STREAMED_ENTRIES), { output: 'jsonl' });
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
