import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli, startCli, startServer } from './test-support/cli-process.js';
import { useCliTempDir } from './test-support/temp-dir.js';

const tempDir = useCliTempDir('worker-runtime-stream-commands-');

// A command that writes its reply to stdout in two parts, 400 ms apart.
const SLOW_STDOUT = `process.stdout.write('first part, '); setTimeout(() => process.stdout.write('second part'), 400);`;

// An engine that calls a tool and streams a reply, as openai_chat with MCP tools does.
const TOOLY = `export default {
  name: 'tooly',
  async run(run) {
    await run.append({ role: 'assistant', content: '', tool_calls: [{ id: 'c1', name: 'fs__read_text_file', arguments: '{"path":"notes.txt"}' }] });
    await run.append({ role: 'tool', content: 'line one of the file\\nline two', tool_call_id: 'c1', name: 'fs__read_text_file' });
    for (const piece of ['The file ', 'says hello.']) run.delta(piece);
    await run.append({ role: 'assistant', content: 'The file says hello.' });
  },
};\n`;

async function configFile(): Promise<string> {
  await mkdir(join(tempDir(), 'engines'), { recursive: true });
  await writeFile(join(tempDir(), 'engines', 'tooly.mjs'), TOOLY);
  const path = join(tempDir(), 'runtime.json');
  await writeFile(
    path,
    JSON.stringify({
      engine_modules: ['./engines/tooly.mjs'],
      profiles: {
        slow: { engine: 'command', command: [process.execPath, '-e', SLOW_STDOUT] },
        tools: { engine: 'tooly' },
        words: { engine: 'echo', prefix: '', stream_chunk_ms: 10 },
        failing: {
          engine: 'command',
          command: [process.execPath, '-e', 'process.stdout.write("partial"); process.exit(4)'],
        },
      },
    }),
  );
  return path;
}

/**
 * Creates a Worker over HTTP. Setup, not what is tested: one CLI process less (each costs a Node.js
 * start-up, seconds on a loaded machine).
 */
async function createWorker(url: string, worker_id: string, profile: string): Promise<void> {
  const response = await fetch(`${url}/v1/workers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ worker_id, intent: { kind: 'assistant' }, profile: { kind: 'named', value: profile } }),
  });
  expect(response.ok).toBe(true);
}

describe('send --wait streams the reply', () => {
  test('a command engine’s stdout reaches the terminal as it is written, over SSE', async () => {
    const server = await startServer(['--config', await configFile()]);
    try {
      await createWorker(server.url, 's1', 'slow');
      const send = startCli(['send', 's1', 'go', '--wait', '--url', server.url]);
      await send.waitFor((output) => output.stdout.includes('first part, '));
      // The first part is out while the command is still writing the second.
      expect(send.output.stdout).not.toContain('second part');
      const result = await send.exited;
      expect(result).toMatchObject({ code: 0, stdout: 'first part, second part\n', stderr: '' });
    } finally {
      await server.stop();
    }
  });

  test('tool calls and results show as they happen; --json is one line per item; a failed run exits 1', async () => {
    const server = await startServer(['--config', await configFile()]);
    try {
      await createWorker(server.url, 't1', 'tools');
      const text = await runCli(['send', 't1', 'read my notes', '--wait', '--url', server.url]);
      expect(text).toMatchObject({ code: 0, stdout: 'The file says hello.\n' });
      expect(text.stderr).toBe(
        '→ fs__read_text_file {"path":"notes.txt"}\n← fs__read_text_file: line one of the file…\n',
      );
      await createWorker(server.url, 'w1', 'words');
      const json = await runCli(['send', 'w1', 'a b c', '--wait', '--json', '--url', server.url]);
      expect(json).toMatchObject({ code: 0, stderr: '' });
      const lines = json.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines[0].type).toBe('ack');
      expect(lines.filter((line) => line.type === 'delta').map((line) => line.content)).toEqual(['a ', 'b ', 'c']);
      expect(lines.filter((line) => line.type === 'event').at(-1).event.kind).toBe('run_completed');
      expect(lines.at(-1)).toMatchObject({
        type: 'result',
        run: { status: 'completed' },
        replies: [{ content: 'a b c' }],
      });
      await createWorker(server.url, 'f1', 'failing');
      const failed = await runCli(['send', 'f1', 'x', '--wait', '--url', server.url]);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toBe('partial');
      expect(failed.stderr).toMatch(/^run \S+ failed/m);
    } finally {
      await server.stop();
    }
  });
});

describe('events --follow over the event stream', () => {
  test('reconnects with its cursor after a server restart: nothing missed, nothing twice', async () => {
    const dataDir = join(tempDir(), 'data');
    const first = await startServer(['--store', 'fs', '--data-dir', dataDir]);
    const port = new URL(first.url).port;
    const follower = startCli(['events', '--follow', '--json', '--url', first.url]);
    await runCli(['workers', 'create', '--id', 'e1', '--url', first.url]);
    await follower.waitFor((output) => output.stdout.includes('"worker_created"'));
    await first.stop();
    const second = await startServer(['--store', 'fs', '--data-dir', dataDir, '--port', port]);
    try {
      await runCli(['send', 'e1', 'after the restart', '--wait', '--url', second.url]);
      await follower.waitFor((output) => output.stdout.includes('"run_completed"'), 30_000);
      follower.child.kill('SIGINT');
      const result = await follower.exited;
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      const ids = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).id as number);
      expect(ids).toEqual(ids.map((_, i) => (ids[0] as number) + i));
      const kinds = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).kind as string);
      expect(kinds).toEqual(expect.arrayContaining(['runtime_stopping', 'runtime_started', 'run_completed']));
    } finally {
      await second.stop();
    }
  });
});

describe('serve with open streams', () => {
  test('SIGTERM with 500 open streams: serve exits 0 within 2 s', async () => {
    const server = await startServer();
    const controller = new AbortController();
    const streams = await Promise.all(
      Array.from({ length: 500 }, async () => {
        const response = await fetch(`${server.url}/v1/events/stream`, { signal: controller.signal });
        const reader = (response.body as ReadableStream<Uint8Array>).getReader();
        await reader.read();
        return reader;
      }),
    );
    const ended = Promise.all(
      streams.map(async (reader) => {
        for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return;
      }),
    );
    const started = performance.now();
    const result = await server.stop();
    const elapsed = performance.now() - started;
    await ended;
    controller.abort();
    expect(result.code).toBe(0);
    expect(elapsed).toBeLessThan(2000);
  });
});
