import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsStore } from '@worker-runtime/fs-store';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { killAllCli, runCli, startServer, type WireJson } from './test-support/cli-process.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-runtime-cli-'));
});

afterEach(async () => {
  killAllCli();
  await rm(dir, { recursive: true, force: true });
});

async function getJson(url: string, token?: string): Promise<{ status: number; body: WireJson }> {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, body: (await response.json()) as WireJson };
}

async function postJson(url: string, body: unknown): Promise<{ status: number; body: WireJson }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as WireJson };
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('serve', () => {
  test('prints one ready line with the real port and serves REST on it', async () => {
    const server = await startServer();
    expect(server.readyLine).toMatch(/store=memory profiles=runtime_default$/);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toMatch(/:0$/);
    const { status, body } = await getJson(`${server.url}/v1/runtime`);
    expect(status).toBe(200);
    expect(body.runtime.runtime_id).toBe(server.runtimeId);
    const created = await postJson(`${server.url}/v1/workers`, {
      worker_id: 'w1',
      intent: { kind: 'assistant' },
      profile: { kind: 'runtime_default' },
    });
    expect(created.status).toBe(201);
    const result = await server.stop();
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
  });

  test('logs JSON lines on stderr, one per request at debug, and never the token', async () => {
    const token = 'tok-3f9a1c5e-do-not-log';
    const server = await startServer(['--log-level', 'debug'], { env: { WORKER_RUNTIME_TOKEN: token } });
    expect((await getJson(`${server.url}/v1/runtime`)).status).toBe(401);
    expect((await getJson(`${server.url}/v1/workers`, token)).status).toBe(200);
    const result = await server.stop();
    const lines = jsonLines(result.stderr);
    expect(lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['runtime started', 'shutting down', 'stopped']),
    );
    const requests = lines.filter((line) => line.level === 'debug' && line.path !== undefined);
    expect(requests.map((line) => [line.path, line.status])).toEqual([
      ['/v1/runtime', 401],
      ['/v1/workers', 200],
    ]);
    expect(`${result.stdout}${result.stderr}`).not.toContain(token);
  });

  test('the default info level logs no request lines', async () => {
    const server = await startServer();
    await getJson(`${server.url}/v1/runtime`);
    const result = await server.stop();
    expect(jsonLines(result.stderr).filter((line) => line.path !== undefined)).toEqual([]);
  });

  test('SIGTERM exits 0 and an fs data dir reopens with the worker and its transcript', async () => {
    const dataDir = join(dir, 'data');
    const first = await startServer(['--store', 'fs', '--data-dir', dataDir]);
    expect(first.readyLine).toContain('store=fs');
    const send = await runCli(['send', 'keeper', 'remember me', '--wait', '--url', first.url]);
    expect(send.code).toBe(1);
    expect(send.stderr).toMatch(/^error worker_not_found: /);
    expect((await runCli(['workers', 'create', '--id', 'keeper', '--url', first.url])).code).toBe(0);
    expect((await runCli(['send', 'keeper', 'remember me', '--wait', '--url', first.url])).stdout).toBe(
      'echo: remember me\n',
    );
    expect((await first.stop('SIGTERM')).code).toBe(0);

    const second = await startServer(['--store', 'fs', '--data-dir', dataDir]);
    expect(second.runtimeId).toBe(first.runtimeId);
    const transcript = await runCli(['transcript', 'keeper', '--json', '--url', second.url]);
    const page = JSON.parse(transcript.stdout);
    expect(page.items.map((entry: { role: string; content: string }) => [entry.role, entry.content])).toEqual([
      ['user', 'remember me'],
      ['assistant', 'echo: remember me'],
    ]);
    expect((await second.stop('SIGINT')).code).toBe(0);
  });

  test('shutdown interrupts an active run, which the reopened store shows as interrupted', async () => {
    const config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({ store: 'fs', data_dir: 'data', profiles: { slow: { engine: 'echo', delay_ms: 60_000 } } }),
    );
    const first = await startServer(['--config', config]);
    await runCli(['workers', 'create', '--id', 'slowpoke', '--profile', 'slow', '--url', first.url]);
    const ack = JSON.parse((await runCli(['send', 'slowpoke', 'take your time', '--json', '--url', first.url])).stdout);
    expect(ack.run_status).toBe('running');
    expect((await first.stop()).code).toBe(0);

    const second = await startServer(['--config', config]);
    const run = await getJson(`${second.url}/v1/workers/slowpoke/runs/${ack.run_id}`);
    expect(run.body.run.status).toBe('interrupted');
  });

  test('a second signal during shutdown exits at once with 143', async () => {
    // A run whose process ignores SIGTERM holds the graceful shutdown for the whole (long) grace.
    const stubborn = "process.on('SIGTERM', () => {}); setTimeout(() => {}, 4000)";
    const config = join(dir, 'stubborn.json');
    await writeFile(
      config,
      JSON.stringify({
        limits: { cancel_grace_ms: 30_000 },
        profiles: {
          stubborn: { engine: 'command', command: [process.execPath, '-e', stubborn], kill_grace_ms: 30_000 },
        },
      }),
    );
    const server = await startServer(['--config', config]);
    await runCli(['workers', 'create', '--id', 'mule', '--profile', 'stubborn', '--url', server.url]);
    const ack = JSON.parse((await runCli(['send', 'mule', 'go', '--json', '--url', server.url])).stdout);
    expect(ack.run_status).toBe('running');
    server.child.kill('SIGTERM');
    await server.waitFor((output) => output.stderr.includes('"shutting down"'));
    const result = await server.stop('SIGTERM');
    expect(result.code).toBe(143);
  });

  test('a second serve on the same fs data dir exits 1 with store_locked', async () => {
    const dataDir = join(dir, 'data');
    const first = await startServer(['--store', 'fs', '--data-dir', dataDir]);
    const second = await runCli(['serve', '--port', '0', '--store', 'fs', '--data-dir', dataDir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^error store_locked: .+\n$/);
    expect(second.stderr).not.toContain(dataDir);
    expect((await first.stop()).code).toBe(0);
  });

  // Node 20's recursive mkdir loops forever on such a path; the store creates it level by level.
  test.skipIf(!existsSync('/proc'))('a data dir that cannot be created exits 1 with store_unavailable', async () => {
    const result = await runCli(['serve', '--port', '0', '--store', 'fs', '--data-dir', '/proc/nope']);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/^error store_unavailable: .+\n$/);
    expect(result.stderr).not.toContain('/proc');
  });

  test('a port already in use exits 1 with one clear line', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli(['serve', '--port', String(port)]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `error runtime_unavailable: cannot listen on http://127.0.0.1:${port}: the address is already in use\n`,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('an unknown flag exits 2 with the reason and a --help hint', async () => {
    const result = await runCli(['serve', '--no-such-flag']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "worker-runtime: unknown option --no-such-flag\nRun 'worker-runtime serve --help' for usage.\n",
    );
  });

  test('a bad flag or environment value exits 2 naming it', async () => {
    const flag = await runCli(['serve', '--port', 'eighty']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--port must be an integer from 0 to 65535 (got "eighty")');
    const env = await runCli(['serve'], { env: { WORKER_RUNTIME_STORE: 'sqlite' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('WORKER_RUNTIME_STORE must be one of memory, fs, postgres');
    const limit = await runCli(['serve', '--max-workers', '0']);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('--max-workers must be an integer ≥ 1 (got "0")');
    // Durations stop where a timer can honour them (2^31-1 ms).
    const wait = await runCli(['serve', '--max-wait-ms', '2147483648']);
    expect(wait.code).toBe(2);
    expect(wait.stderr).toBe(
      'worker-runtime: --max-wait-ms must be an integer from 0 to 2147483647 (got "2147483648")\n' +
        "Run 'worker-runtime serve --help' for usage.\n",
    );
  });

  test('several runtimes in the data dir are refused, naming them and --runtime-id', async () => {
    const dataDir = join(dir, 'two');
    for (const id of ['alpha', 'beta']) {
      const store = createFsStore({ data_dir: dataDir });
      await store.open({
        runtime_id: id,
        generate_id: () => id,
        now: new Date().toISOString(),
        max_diagnostics: 10,
        max_retained_events: 10,
      });
      await store.close();
    }
    const result = await runCli(['serve', '--port', '0', '--store', 'fs', '--data-dir', dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error invalid_request: the data directory holds 2 runtimes (alpha, beta); ' +
        'choose one with --runtime-id or WORKER_RUNTIME_RUNTIME_ID\n',
    );
  });

  test('a non-loopback host without a token is refused before anything opens', async () => {
    const result = await runCli(['serve', '--host', '0.0.0.0', '--store', 'fs', '--data-dir', join(dir, 'never')], {
      cwd: dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^worker-runtime: refusing to bind 0\.0\.0\.0 without a token/);
    expect(existsSync(join(dir, 'never'))).toBe(false);
    expect((await runCli(['serve', '--host', '10.1.2.3'])).code).toBe(2);
  });

  test('a token file protects every /v1 route', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'file-token-42\n');
    const server = await startServer(['--token-file', tokenFile]);
    expect((await getJson(`${server.url}/v1/runtime`)).status).toBe(401);
    expect((await getJson(`${server.url}/v1/runtime`, 'file-token-42')).status).toBe(200);
    const missing = await runCli(['serve', '--token-file', join(dir, 'absent')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error invalid_request: cannot read token file absent: ENOENT\n');
  });
});

describe('serve --config', () => {
  async function config(value: unknown, name = 'runtime.json'): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  }

  test('bad JSON exits 1 naming the file, not its path or content', async () => {
    const path = await config('{ "port": 7420, "host": }', 'broken.json');
    const result = await runCli(['serve', '--config', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error invalid_request: invalid config file broken\.json: not valid JSON/);
    expect(result.stderr).not.toContain(dir);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('a schema violation exits 1 naming the field', async () => {
    const badPort = await runCli(['serve', '--config', await config({ port: 'eighty' })]);
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toMatch(/^error invalid_request: invalid config file runtime\.json: port: Invalid type/);
    const unknown = await runCli(['serve', '--config', await config({ prot: 7420 })]);
    expect(unknown.stderr).toBe('error invalid_request: invalid config file runtime.json: prot: unknown field\n');
    const limit = await runCli(['serve', '--config', await config({ limits: { max_workers: -1 } })]);
    expect(limit.stderr).toMatch(/runtime\.json: limits\.max_workers: /);
    const profile = await runCli(['serve', '--config', await config({ profiles: { tool: { engine: 'command' } } })]);
    expect(profile.stderr).toMatch(/runtime\.json: profiles\.tool\.command: is required\n$/);
    const fallback = await runCli(['serve', '--config', await config({ default_profile: 'ghost' })]);
    expect(fallback.stderr).toMatch(/runtime\.json: default_profile: /);
    const timeout = await runCli([
      'serve',
      '--config',
      await config({ profiles: { slow: { engine: 'echo', run_timeout_ms: 2 ** 31 } } }),
    ]);
    expect(timeout).toMatchObject({ code: 1, stdout: '' });
    expect(timeout.stderr).toBe(
      'error invalid_request: invalid config file runtime.json: profiles.slow.run_timeout_ms: must be at most 2147483647 ms\n',
    );
  });

  test('a missing config file exits 1', async () => {
    const result = await runCli(['serve', '--config', join(dir, 'nowhere.json')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error invalid_request: cannot read config file nowhere.json: ENOENT\n');
  });

  test('profiles and default_profile from the file drive the Runtime', async () => {
    const path = await config({
      profiles: { shout: { engine: 'echo', prefix: 'SHOUT: ', description: 'loud echo' } },
      default_profile: 'shout',
    });
    const server = await startServer(['--config', path]);
    expect(server.readyLine).toMatch(/profiles=runtime_default,shout$/);
    await runCli(['workers', 'create', '--id', 'loud', '--url', server.url]);
    const reply = await runCli(['send', 'loud', 'hi', '--wait', '--url', server.url]);
    expect(reply.stdout).toBe('SHOUT: hi\n');
  });

  test('precedence is flag over environment over config file over default', async () => {
    // The file's port could never bind; the environment's 0 overrides it.
    const path = await config({ port: 1, display_name: 'from-file', limits: { max_workers: 3, max_queued_inputs: 4 } });
    const env = { WORKER_RUNTIME_CONFIG: path, WORKER_RUNTIME_PORT: '0', WORKER_RUNTIME_MAX_WORKERS: '5' };
    const fromEnv = await startServer([], { env: { ...env, WORKER_RUNTIME_DISPLAY_NAME: 'from-env' } });
    const summary = (await getJson(`${fromEnv.url}/v1/runtime`)).body.runtime;
    expect(summary.display_name).toBe('from-env');
    expect(summary.limits.max_workers).toBe(5);
    expect(summary.limits.max_queued_inputs).toBe(4);
    expect(summary.limits.max_list_page).toBe(1000);
    await fromEnv.stop();

    const fromFlag = await startServer(['--display-name', 'from-flag', '--max-workers', '7'], { env });
    const flagged = (await getJson(`${fromFlag.url}/v1/runtime`)).body.runtime;
    expect(flagged.display_name).toBe('from-flag');
    expect(flagged.limits.max_workers).toBe(7);
    await fromFlag.stop();

    const fromFile = await startServer([], { env: { WORKER_RUNTIME_CONFIG: path, WORKER_RUNTIME_PORT: '0' } });
    expect((await getJson(`${fromFile.url}/v1/runtime`)).body.runtime.display_name).toBe('from-file');
  });
});
