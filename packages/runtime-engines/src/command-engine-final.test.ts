import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MemoryStore, type Runtime, type StoreRecord, type WatchItem } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import {
  entries,
  finishedRun,
  printingJsonl,
  startRun,
  TWO_STREAMED_ENTRIES,
  untilRunEnds,
  useRuntimePerTest,
  waitFor,
} from './test-helpers.js';

// A jsonl program's last entry is handed to core as the run's final entry: committed in the batch
// that completes the run. Real child processes (Node.js scripts), a store that records its batches.

const NODE = process.execPath;
/** Long enough that only the program's next line or its exit ends the wait, never the clock. */
const NO_TIMEOUT = 600_000;

/** A memory store that remembers every batch it commits. */
class RecordingStore extends MemoryStore {
  readonly batches: StoreRecord[][] = [];

  override async commit(records: readonly StoreRecord[]): Promise<void> {
    this.batches.push(structuredClone([...records]));
    return super.commit(records);
  }
}

const scope = useRuntimePerTest('engines-command-final-');

/** Opens a Runtime on a recording store with one jsonl `command` profile running `source` under Node.js. */
async function open(
  source: string,
  options: Record<string, unknown> = {},
  args: string[] = [],
): Promise<{ rt: Runtime; store: RecordingStore }> {
  const store = new RecordingStore();
  const rt = await scope.open(
    { p: { engine: 'command', command: [NODE, '-e', source, ...args], output: 'jsonl', ...options } },
    { store },
  );
  return { rt, store };
}

/** Each batch as the kinds of its records (events by kind, transcript entries by content). */
function kinds(batches: StoreRecord[][]): string[][] {
  return batches.map((batch) =>
    batch.map((record) =>
      record.type === 'event'
        ? record.event.kind
        : record.type === 'transcript'
          ? `transcript ${record.entry.content}`
          : record.type === 'run'
            ? `run ${record.run.run.status} ${record.run.run.output_entries}`
            : record.type,
    ),
  );
}

/** What a watch saw, without ids and times. */
function shape(items: readonly WatchItem[]): unknown[] {
  return items.map((item) =>
    item.type === 'event'
      ? { kind: item.event.kind, data: item.event.data }
      : { delta: item.entry, offset: item.offset, content: item.content },
  );
}

describe('command engine: the last jsonl entry is the run final entry', () => {
  test('commits in the batch that completes the run; the entries before it were appended one by one', async () => {
    const { rt, store } = await open(
      printingJsonl([
        { role: 'tool', content: 'step 1' },
        { role: 'assistant', content: 'done' },
      ]),
      { last_entry_wait_ms: NO_TIMEOUT },
    );
    const { worker_id, run_id } = await startRun(rt, 'p', 'go');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run).toMatchObject({ status: 'completed', output_entries: 2 });
    expect((await entries(rt, worker_id)).map((e) => [e.role, e.content])).toEqual([
      ['user', 'go'],
      ['tool', 'step 1'],
      ['assistant', 'done'],
    ]);
    expect(kinds(store.batches).slice(-2)).toEqual([
      ['transcript_appended', 'transcript step 1', 'run running 1'],
      ['transcript_appended', 'transcript done', 'run completed 2', 'run_completed'],
    ]);
  });

  test('a client sees the same events, deltas and transcript as when every entry is appended', async () => {
    const seen = [];
    // 0 appends every entry as it is printed, the last one too: the behaviour without a final entry.
    for (const wait of [0, NO_TIMEOUT]) {
      const { rt, store } = await open(printingJsonl(TWO_STREAMED_ENTRIES), { last_entry_wait_ms: wait });
      const watch = rt.watch({});
      await watch.ready();
      const { worker_id, run_id } = await startRun(rt, 'p', 'go');
      const items = await untilRunEnds(watch);
      await watch.return();
      const run = await finishedRun(rt, worker_id, run_id);
      const transcript = (await entries(rt, worker_id)).map(({ sequence, role, content }) => ({
        sequence,
        role,
        content,
      }));
      // From the input on (the Worker's creation and diagnostics carry ids of their own).
      const start = items.findIndex((item) => item.type === 'event' && item.event.kind === 'worker_input_accepted');
      seen.push({ items: shape(items.slice(start)), transcript, run: [run.status, run.output_entries] });
      const last = kinds(store.batches).at(-1);
      expect(last).toEqual(
        wait === 0
          ? ['run completed 2', 'run_completed']
          : ['transcript_appended', 'transcript Bye', 'run completed 2', 'run_completed'],
      );
    }
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[1]?.items.slice(-3)).toEqual([
      { delta: 1, offset: 0, content: 'Bye' },
      { kind: 'transcript_appended', data: { sequence: 3, role: 'assistant' } },
      expect.objectContaining({ kind: 'run_completed' }),
    ]);
  });

  test('an entry followed by silence is appended while the program still runs', async () => {
    const gate = join(scope.dir(), 'gate');
    const source = `
      const fs = require('node:fs');
      console.log(JSON.stringify({ role: 'tool', content: 'working' }));
      const timer = setInterval(() => {
        if (!fs.existsSync(process.argv[1])) return;
        clearInterval(timer);
        console.log(JSON.stringify({ role: 'assistant', content: 'finished' }));
      }, 10);`;
    // 3 s, not a short wait: the program's exit right after its last line must come within
    // the wait for that line to be final, even on a loaded machine.
    const { rt, store } = await open(source, { last_entry_wait_ms: 3000 }, [gate]);
    const { worker_id, run_id } = await startRun(rt, 'p', 'go');
    // The wait ends while the program waits for the gate: the entry is durable meanwhile.
    await waitFor('the entry printed before the pause', async () => (await entries(rt, worker_id)).length === 2);
    expect((await rt.getRun(worker_id, run_id)).status).toBe('running');
    await writeFile(gate, '');
    expect(await finishedRun(rt, worker_id, run_id)).toMatchObject({ status: 'completed', output_entries: 2 });
    expect(kinds(store.batches).slice(-2)).toEqual([
      ['transcript_appended', 'transcript working', 'run running 1'],
      ['transcript_appended', 'transcript finished', 'run completed 2', 'run_completed'],
    ]);
  });

  test('a program that fails after its last entry keeps the entry, appended, and fails the run', async () => {
    const source = `console.log(JSON.stringify({ role: 'assistant', content: 'partial' })); process.exitCode = 3;`;
    const { rt } = await open(source, { last_entry_wait_ms: NO_TIMEOUT });
    const { worker_id, run_id } = await startRun(rt, 'p', 'go');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run).toMatchObject({ status: 'failed', output_entries: 1 });
    expect(run.error?.message).toBe('the command exited with status 3 (no stderr output)');
    expect((await entries(rt, worker_id)).map((e) => e.content)).toEqual(['go', 'partial']);
  });

  test('an entry still waiting when the run is cancelled is dropped, like a late append', async () => {
    // One write, so one chunk: once the delta is out, the entry line after it has been read too.
    const output = `${JSON.stringify({ delta: 'never' })}\n${JSON.stringify({ role: 'assistant', content: 'never' })}\n`;
    const source = `process.stdout.write(${JSON.stringify(output)}); setInterval(() => {}, 1000);`;
    const { rt } = await open(source, { last_entry_wait_ms: NO_TIMEOUT, kill_grace_ms: 200 });
    const watch = rt.watch({});
    await watch.ready();
    const { worker_id, run_id } = await startRun(rt, 'p', 'go');
    for await (const item of watch) if (item.type === 'delta') break;
    await rt.cancelWorker(worker_id, { reason: 'test cancel' });
    expect((await rt.getRun(worker_id, run_id)).status).toBe('cancelled');
    expect((await entries(rt, worker_id)).map((e) => e.content)).toEqual(['go']);
  });
});
