import { realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { INHERITED_ENV_NAMES } from './minimal-env.js';
import { entries, finishedRun, isRunning, startRun, useRuntimePerTest, waitFor } from './test-helpers.js';

const NODE = process.execPath;

/** A profile running a Node.js script given as source (`node -e <source> ...args`). */
function nodeProfile(
  source: string,
  options: Record<string, unknown> = {},
  args: string[] = [],
): Record<string, unknown> {
  return { engine: 'command', command: [NODE, '-e', source, ...args], ...options };
}

// A leader that starts a child, which starts a grandchild that ignores SIGTERM. Once all three run,
// the leader prints their pids as one jsonl `tool` entry, then all of them idle forever.
const GRANDCHILD = `process.on('SIGTERM', () => {}); console.log(process.pid); setInterval(() => {}, 1000);`;
const CHILD = `
const { spawn } = require('node:child_process');
const g = spawn(process.execPath, ['-e', ${JSON.stringify(GRANDCHILD)}], { stdio: ['ignore', 'pipe', 'inherit'] });
g.stdout.once('data', (d) => console.log(process.pid + ' ' + String(d).trim()));
setInterval(() => {}, 1000);`;
const TREE = `
const { spawn } = require('node:child_process');
const c = spawn(process.execPath, ['-e', ${JSON.stringify(CHILD)}], { stdio: ['ignore', 'pipe', 'inherit'] });
c.stdout.once('data', (d) => console.log(JSON.stringify({ role: 'tool', content: process.pid + ' ' + String(d).trim() })));
setInterval(() => {}, 1000);`;

const scope = useRuntimePerTest('engines-command-');

function open(profiles: Record<string, unknown>, cancel_grace_ms = 20_000): Promise<Runtime> {
  return scope.open(profiles, { limits: { cancel_grace_ms } });
}

async function treePids(rt: Runtime, worker_id: string): Promise<number[]> {
  const entry = await waitFor('the process tree to report its pids', async () =>
    (await entries(rt, worker_id)).find((e) => e.role === 'tool'),
  );
  const pids = entry.content.split(' ').map(Number);
  expect(pids).toHaveLength(3);
  for (const pid of pids) expect(isRunning(pid)).toBe(true);
  return pids;
}

describe('command engine: input and output', () => {
  test('feeds the input on stdin and replies with all of stdout as one assistant entry', async () => {
    const rt = await open({ cat: { engine: 'command', command: ['/bin/cat'] } });
    const { worker_id, run_id } = await startRun(rt, 'cat', 'hello\nwörld ✓');
    expect((await finishedRun(rt, worker_id, run_id)).status).toBe('completed');
    const items = await entries(rt, worker_id);
    expect(items.map((e) => [e.role, e.content])).toEqual([
      ['user', 'hello\nwörld ✓'],
      ['assistant', 'hello\nwörld ✓'],
    ]);
  });

  test('drops one final newline from text output', async () => {
    const rt = await open({ p: nodeProfile(`process.stdout.write('line 1\\nline 2\\n')`) });
    const { worker_id, run_id } = await startRun(rt, 'p', 'x');
    await finishedRun(rt, worker_id, run_id);
    expect((await entries(rt, worker_id))[1]?.content).toBe('line 1\nline 2');
  });

  test('passes the input as the last argument, verbatim and without a shell', async () => {
    const rt = await open({
      p: nodeProfile(`process.stdout.write(JSON.stringify(process.argv.slice(1)))`, { input: 'argument' }, ['first']),
    });
    const input = `it's "quoted"; $HOME && echo *`;
    const { worker_id, run_id } = await startRun(rt, 'p', input);
    expect((await finishedRun(rt, worker_id, run_id)).status).toBe('completed');
    expect(JSON.parse((await entries(rt, worker_id))[1]?.content ?? '')).toEqual(['first', input]);
  });

  test('runs in the profile cwd', async () => {
    const rt = await open({ p: nodeProfile(`process.stdout.write(process.cwd())`, { cwd: scope.dir() }) });
    const { worker_id, run_id } = await startRun(rt, 'p', 'x');
    await finishedRun(rt, worker_id, run_id);
    expect((await entries(rt, worker_id))[1]?.content).toBe(await realpath(scope.dir()));
  });

  test('appends jsonl entries as they are printed, in order, before the program exits', async () => {
    const gate = join(scope.dir(), 'gate');
    const source = `
      const fs = require('node:fs');
      console.log(JSON.stringify({ role: 'tool', content: 'step 1' }));
      console.log(JSON.stringify({ role: 'assistant', content: 'step 2', extra: true }));
      const timer = setInterval(() => {
        if (!fs.existsSync(process.argv[1])) return;
        clearInterval(timer);
        process.stdout.write(JSON.stringify({ role: 'assistant', content: 'done' }));
      }, 10);`;
    const rt = await open({ p: nodeProfile(source, { output: 'jsonl' }, [gate]) });
    const { worker_id, run_id } = await startRun(rt, 'p', 'go');
    await waitFor('two streamed entries', async () => (await entries(rt, worker_id)).length === 3);
    expect((await rt.getRun(worker_id, run_id)).status).toBe('running');
    await writeFile(gate, '');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('completed');
    expect(run.output_entries).toBe(3);
    expect((await entries(rt, worker_id)).map((e) => [e.role, e.content])).toEqual([
      ['user', 'go'],
      ['tool', 'step 1'],
      ['assistant', 'step 2'],
      ['assistant', 'done'],
    ]);
  });

  test('fails the run on a jsonl line that is not an entry, keeping the lines before it', async () => {
    const source = `console.log(JSON.stringify({ role: 'assistant', content: 'ok' })); console.log('{"role":"robot","content":"x"}'); setInterval(() => {}, 1000);`;
    const rt = await open({ p: nodeProfile(source, { output: 'jsonl', kill_grace_ms: 200 }) });
    const { worker_id, run_id } = await startRun(rt, 'p', 'go');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('failed');
    expect(run.error?.message).toMatch(/line 2 of the command's output is not a transcript entry \(role: /);
    expect((await entries(rt, worker_id)).map((e) => e.content)).toEqual(['go', 'ok']);
  });

  test('fails the run on a jsonl line that is not JSON', async () => {
    const rt = await open({ p: nodeProfile(`console.log('hello there')`, { output: 'jsonl' }) });
    const { worker_id, run_id } = await startRun(rt, 'p', 'go');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.error?.message).toBe(
      `line 1 of the command's output is not JSON (expected {"role", "content"}): hello there`,
    );
  });
});

describe('command engine: failures', () => {
  test('a non-zero exit fails the run with the status and the stderr tail', async () => {
    const source = `process.stderr.write('noise '.repeat(5000) + 'the real reason'); process.exit(3)`;
    const rt = await open({ p: nodeProfile(source) });
    const { worker_id, run_id } = await startRun(rt, 'p', 'x');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('engine_error');
    expect(run.error?.message).toMatch(/^the command exited with status 3; stderr: (noise )+the real reason$/);
    expect(run.error?.message.length).toBeLessThan(4096 + 100);
    expect(await entries(rt, worker_id)).toHaveLength(1);
  });

  test('death by a signal fails the run naming the signal', async () => {
    const rt = await open({ p: nodeProfile(`process.kill(process.pid, 'SIGKILL')`) });
    const { worker_id, run_id } = await startRun(rt, 'p', 'x');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.error?.message).toBe('the command was terminated by signal SIGKILL (no stderr output)');
  });

  test('a missing program fails the run without revealing its directory', async () => {
    const rt = await open({ p: { engine: 'command', command: ['/nowhere/no-such-program-here'] } });
    const { worker_id, run_id } = await startRun(rt, 'p', 'x');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.error?.message).toBe('the command could not be started: program "no-such-program-here" was not found');
  });

  test('invalid profile options are refused when the Runtime opens, with invalid_request naming the field', async () => {
    const messages: (string | undefined)[] = [];
    for (const profile of [
      { engine: 'command', command: [] },
      { engine: 'command', command: ['/bin/cat'], outptu: 'jsonl' },
      { engine: 'command', command: ['/bin/cat'], output: 'xml' },
    ]) {
      const error = await open({ p: profile }).then(
        () => null,
        (reason: unknown) => reason as { code?: string; message?: string },
      );
      expect(error?.code).toBe('invalid_request');
      messages.push(error?.message);
    }
    expect(messages[0]).toMatch(/^invalid options in profile "p": command: must name the program/);
    expect(messages[1]).toBe('invalid options in profile "p": outptu: unknown field');
    expect(messages[2]).toBe('invalid options in profile "p": output: must be "text" or "jsonl"');
  });

  test('output beyond max_output_bytes kills the program and fails the run', async () => {
    const source = `const b = 'x'.repeat(65536); const w = () => { while (process.stdout.write(b)) {} process.stdout.once('drain', w); }; w();`;
    const rt = await open({ p: nodeProfile(source, { max_output_bytes: 100_000, kill_grace_ms: 200 }) });
    const { worker_id, run_id } = await startRun(rt, 'p', 'x');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('failed');
    expect(run.error?.message).toBe("the command's output exceeded max_output_bytes (100000 bytes)");
    expect(await entries(rt, worker_id)).toHaveLength(1);
  });
});

describe('command engine: environment', () => {
  test('sees only a minimal environment plus the profile env', async () => {
    process.env.ENGINES_TEST_SECRET = 'must-not-leak';
    try {
      const rt = await open({
        p: nodeProfile(`process.stdout.write(JSON.stringify(process.env))`, { env: { GREETING: 'hi there' } }),
      });
      const { worker_id, run_id } = await startRun(rt, 'p', 'x');
      await finishedRun(rt, worker_id, run_id);
      const env = JSON.parse((await entries(rt, worker_id))[1]?.content ?? '{}') as Record<string, string>;
      expect(env.GREETING).toBe('hi there');
      expect(env.PATH).toBeTruthy();
      expect(env.ENGINES_TEST_SECRET).toBeUndefined();
      expect(Object.keys(env).every((name) => name === 'GREETING' || INHERITED_ENV_NAMES.includes(name))).toBe(true);
    } finally {
      delete process.env.ENGINES_TEST_SECRET;
    }
  });
});

describe('command engine: cancel and timeout', () => {
  test('cancel ends the whole process group, SIGKILLing what ignores SIGTERM, before the run settles', async () => {
    const rt = await open({ p: nodeProfile(TREE, { output: 'jsonl', kill_grace_ms: 300 }) });
    const { worker_id, run_id } = await startRun(rt, 'p', 'go');
    const pids = await treePids(rt, worker_id);
    const ack = await rt.cancelWorker(worker_id, { reason: 'test cancel' });
    expect(ack.run_id).toBe(run_id);
    // The engine settles only once no process of the run runs, and cancel waited for the engine.
    expect(pids.filter(isRunning)).toEqual([]);
    const run = await rt.getRun(worker_id, run_id);
    expect(run.status).toBe('cancelled');
    expect(run.error?.message).toBe('test cancel');
  });

  test('run_timeout_ms ends the run as timed_out and leaves no process behind', async () => {
    const rt = await open({ p: nodeProfile(TREE, { output: 'jsonl', kill_grace_ms: 300, run_timeout_ms: 2000 }) });
    const { worker_id, run_id } = await startRun(rt, 'p', 'go');
    const pids = await treePids(rt, worker_id);
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('timed_out');
    await waitFor('the process tree to be gone', () => pids.every((pid) => !isRunning(pid)));
  });

  test('closing the Runtime interrupts the run and ends its processes', async () => {
    const rt = await open({ p: nodeProfile(TREE, { output: 'jsonl', kill_grace_ms: 300 }) });
    const { worker_id } = await startRun(rt, 'p', 'go');
    const pids = await treePids(rt, worker_id);
    await rt.close();
    expect(pids.filter(isRunning)).toEqual([]);
  });

  test('processes left behind by a program that exited are ended with it', async () => {
    const source = `
      const { spawn } = require('node:child_process');
      const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      g.unref();
      process.stdout.write(String(g.pid));`;
    const rt = await open({ p: nodeProfile(source, { kill_grace_ms: 300 }) });
    const { worker_id, run_id } = await startRun(rt, 'p', 'x');
    expect((await finishedRun(rt, worker_id, run_id)).status).toBe('completed');
    const pid = Number((await entries(rt, worker_id))[1]?.content);
    expect(pid).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(false);
  });
});
