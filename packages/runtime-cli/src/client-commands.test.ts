import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  killAllCli,
  runCli,
  type ServerProcess,
  startCli,
  startServer,
  type WireJson,
} from './test-support/cli-process.js';

let dir: string;
let server: ServerProcess;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-runtime-cli-client-'));
  const config = join(dir, 'config.json');
  // A command whose run fails (exit 3), to see `send --wait` report it.
  await writeFile(
    config,
    JSON.stringify({
      profiles: { broken: { engine: 'command', command: [process.execPath, '-e', 'process.exit(3)'] } },
    }),
  );
  server = await startServer(['--config', config]);
});

afterAll(async () => {
  await server?.stop();
  killAllCli();
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  // Only the shared server may outlive a test.
  killAllCli({ except: server.child });
});

async function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli([...args, '--url', server.url]);
}

async function json(...args: string[]): Promise<WireJson> {
  const result = await cli(...args, '--json');
  expect(result.stderr, result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

describe('client commands with --json', () => {
  test('runtime prints the summary', async () => {
    const summary = await json('runtime');
    expect(summary.runtime_id).toBe(server.runtimeId);
    expect(summary.profiles.map((profile: { name: string }) => profile.name)).toEqual(['runtime_default', 'broken']);
  });

  test('workers create, list and show', async () => {
    const created = await json('workers', 'create', '--id', 'alpha', '--name', 'Alpha', '--metadata', 'team=ops');
    expect(created).toMatchObject({
      worker_id: 'alpha',
      display_name: 'Alpha',
      status: 'idle',
      metadata: { team: 'ops' },
    });
    const task = await json('workers', 'create', '--intent', 'task', '--objective', 'sort the mail');
    expect(task.intent).toEqual({ kind: 'task', objective: 'sort the mail' });
    const page = await json('workers', 'list');
    expect(page.workers.map((worker: { worker_id: string }) => worker.worker_id)).toEqual(
      expect.arrayContaining(['alpha', task.worker_id]),
    );
    const shown = await json('workers', 'show', 'alpha');
    expect(shown).toMatchObject({ worker_id: 'alpha', runtime_id: server.runtimeId, last_run: null });
  });

  test('send acks, send --wait returns the run and its replies, transcript and events show them', async () => {
    await json('workers', 'create', '--id', 'bravo');
    const ack = await json('send', 'bravo', 'first');
    expect(ack).toMatchObject({ worker_ref: { worker_id: 'bravo' }, replayed: false });
    expect(typeof ack.run_id).toBe('string');
    const waited = await json('send', 'bravo', 'second', '--wait', '--on-busy', 'enqueue');
    expect(waited.run.status).toBe('completed');
    expect(waited.replies.map((entry: { content: string }) => entry.content)).toEqual(['echo: second']);

    const tail = await json('transcript', 'bravo', '--tail', '1');
    expect(tail.items.map((entry: { content: string }) => entry.content)).toEqual(['echo: second']);
    expect(tail.total_items).toBe(4);

    const events = await json('events', '--worker', 'bravo');
    expect(events.runtime_id).toBe(server.runtimeId);
    expect(events.items.map((event: { kind: string }) => event.kind)).toContain('run_completed');
    const later = await json('events', '--after', String(events.next_after));
    expect(later.items.every((event: { id: number }) => event.id > events.next_after)).toBe(true);
  });

  test('workers cancel and stop ack, and a stopped worker refuses input with exit 1', async () => {
    await json('workers', 'create', '--id', 'charlie');
    const cancel = await json('workers', 'cancel', 'charlie', '--reason', 'nothing to cancel');
    expect(cancel).toMatchObject({ worker_ref: { worker_id: 'charlie' }, run_id: null });
    const stop = await json('workers', 'stop', 'charlie');
    expect(stop).toMatchObject({ status: 'stopped' });
    const refused = await cli('send', 'charlie', 'hello?', '--json');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error worker_stopped: /);
    // stdout holds only results: the error is on stderr alone.
    expect(refused.stdout).toBe('');
  });

  test('events --follow streams JSON lines until SIGINT, then exits 0', async () => {
    const follower = startCli(['events', '--follow', '--json', '--worker', 'delta', '--url', server.url]);
    await json('workers', 'create', '--id', 'delta');
    await json('send', 'delta', 'ping', '--wait');
    await follower.waitFor((output) => output.stdout.includes('"run_completed"'));
    follower.child.kill('SIGINT');
    const result = await follower.exited;
    expect(result.code).toBe(0);
    const kinds = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).kind);
    expect(kinds[0]).toBe('worker_created');
    expect(kinds).toContain('run_completed');
  });
});

describe('client commands as text', () => {
  test('send --wait prints the echo reply and exits 0', async () => {
    await cli('workers', 'create', '--id', 'echo-text');
    const result = await cli('send', 'echo-text', 'hello world', '--wait');
    expect(result).toMatchObject({ code: 0, stdout: 'echo: hello world\n', stderr: '' });
  });

  test('send --wait exits 1 when the run fails', async () => {
    await cli('workers', 'create', '--id', 'doomed', '--profile', 'broken');
    const result = await cli('send', 'doomed', 'try', '--wait');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^run \S+ failed/);
  });

  test('workers list is a table and transcript prints one entry per line', async () => {
    await cli('workers', 'create', '--id', 'echo-table');
    await cli('send', 'echo-table', 'row', '--wait');
    const list = await cli('workers', 'list');
    expect(list.stdout.split('\n')[0]).toMatch(/^WORKER_ID\s+STATUS\s+PROFILE/);
    expect(list.stdout).toMatch(/^echo-table\s+idle\s+runtime_default\s+2\s/m);
    const transcript = await cli('transcript', 'echo-table');
    expect(transcript.stdout).toBe('#1 user: row\n#2 assistant: echo: row\n');
    const runtime = await cli('runtime');
    expect(runtime.stdout).toContain(`runtime_id:      ${server.runtimeId}\n`);
  });

  test('a server error prints "error <code>: <message>" and exits 1', async () => {
    const result = await cli('workers', 'show', 'nobody');
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe('error worker_not_found: worker nobody does not exist\n');
  });

  test('an unreachable server exits 1 naming the URL', async () => {
    const result = await runCli(['runtime', '--url', 'http://127.0.0.1:9']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error runtime_unavailable: .* at http:\/\/127\.0\.0\.1:9\n$/);
  });

  test('send - reads the text from standard input', async () => {
    await cli('workers', 'create', '--id', 'piped');
    const result = await runCli(['send', 'piped', '-', '--wait', '--url', server.url], { input: 'line one\nline two' });
    expect(result).toMatchObject({ code: 0, stdout: 'echo: line one\nline two\n', stderr: '' });
    const transcript = await runCli(['transcript', 'piped', '--json', '--url', server.url]);
    expect(JSON.parse(transcript.stdout).items[0].content).toBe('line one\nline two');
  });

  test('a bad argument exits 2 before any request', async () => {
    const missing = await cli('send', 'only-worker');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("worker-runtime: missing <text>\nRun 'worker-runtime send --help' for usage.\n");
    expect((await cli('transcript', 'w', '--tail', 'lots')).code).toBe(2);
    expect((await cli('workers', 'frobnicate')).code).toBe(2);
    const metadata = await cli('workers', 'create', '--metadata', 'bad');
    expect(metadata).toMatchObject({ code: 2, stdout: '' });
    expect(metadata.stderr).toBe(
      'worker-runtime: --metadata must be key=value (got "bad")\n' +
        "Run 'worker-runtime workers create --help' for usage.\n",
    );
  });
});

describe('events against a server with short retention', () => {
  test('events starts at the oldest retained event; --follow warns and catches up when it fell behind', async () => {
    const short = await startServer(['--max-retained-events', '5']);
    try {
      for (let i = 0; i < 8; i++) {
        const response = await fetch(`${short.url}/v1/workers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } }),
        });
        expect(response.status).toBe(201);
      }
      const batch = await runCli(['events', '--json', '--url', short.url]);
      expect(batch.code).toBe(0);
      const ids = JSON.parse(batch.stdout).items.map((event: { id: number }) => event.id);
      expect(ids).toHaveLength(5);
      expect(ids[0]).toBeGreaterThan(1);
      // An explicit cursor behind retention is still an error to report.
      const stale = await runCli(['events', '--after', '0', '--url', short.url]);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toMatch(/^error cursor_expired: /);

      const follower = startCli(['events', '--follow', '--after', '1', '--url', short.url]);
      await follower.waitFor((output) => output.stdout.split('\n').length > 5);
      expect(follower.output.stderr).toBe(
        `warning: events 2 to ${(ids[0] as number) - 1} are no longer retained; continuing from event ${ids[0]}\n`,
      );
      expect(follower.output.stdout.split('\n')[0]).toMatch(new RegExp(`^${ids[0]} `));
      follower.child.kill('SIGTERM');
      expect((await follower.exited).code).toBe(0);
    } finally {
      await short.stop();
    }
  });
});

describe('client commands against a token-protected server', () => {
  test('use WORKER_RUNTIME_TOKEN or --token-file, and report unauthorized otherwise', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'client-token-7\n');
    const guarded = await startServer(['--token-file', tokenFile]);
    try {
      const denied = await runCli(['runtime', '--url', guarded.url]);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/^error unauthorized: /);
      const viaEnv = await runCli(['runtime', '--json'], {
        env: { WORKER_RUNTIME_URL: guarded.url, WORKER_RUNTIME_TOKEN: 'client-token-7' },
      });
      expect(JSON.parse(viaEnv.stdout).runtime_id).toBe(guarded.runtimeId);
      const viaFile = await runCli(['runtime', '--json', '--token-file', tokenFile, '--url', guarded.url]);
      expect(viaFile.code).toBe(0);
    } finally {
      await guarded.stop();
    }
  });
});
