import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { locateRuntime } from '@worker-runtime/pg-store';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../../../scripts/test-postgres.mjs';
import { killAllCli, runCli, startCli, startServer } from './test-support/cli-process.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startTestPostgres();
}, 60_000);
afterAll(() => server?.stop());
afterEach(() => killAllCli());

const PASSWORD = 'pw-never-shown-1234';

/** The test server's URL with a password added (trust auth ignores it), in a fresh schema-less db. */
function urlWithPassword(): string {
  const url = new URL(server.url);
  url.password = PASSWORD;
  return url.toString();
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const runtimeId = (): string => `rt-${randomBytes(4).toString('hex')}`;

describe('serve --store postgres', () => {
  test('needs a database URL (usage error, exit 2)', async () => {
    const result = await runCli(['serve', '--store', 'postgres']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--database-url');
  });

  test('serves from PostgreSQL; a second process gets store_locked (exit 1); the password is never shown', async () => {
    const env = { WORKER_RUNTIME_DATABASE_URL: urlWithPassword() };
    const id = runtimeId();
    const owner = await startServer(['--store', 'postgres', '--runtime-id', id, '--advertise-url', 'http://owner:1'], {
      env,
    });
    expect(owner.readyLine).toContain('store=postgres');
    const second = await runCli(['serve', '--port', '0', '--store', 'postgres', '--runtime-id', id], { env });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('store_locked');
    const stopped = await owner.stop();
    expect(stopped.code).toBe(0);
    const unreachable = await runCli(
      ['serve', '--port', '0', '--store', 'postgres', '--database-url', `postgres://u:${PASSWORD}@127.0.0.1:1/x`],
      {},
    );
    expect(unreachable.code).toBe(1);
    for (const output of [owner.output, second, unreachable]) {
      expect(output.stdout + output.stderr).not.toContain(PASSWORD);
    }
  });

  test('a --standby process waits, and serves once the owner is killed and its lease expires', async () => {
    const env = { WORKER_RUNTIME_DATABASE_URL: server.url };
    const id = runtimeId();
    const [ownerPort, standbyPort] = [await freePort(), await freePort()];
    const common = ['--store', 'postgres', '--runtime-id', id, '--lease-ms', '1000'];
    const owner = await startServer([...common, '--advertise-url', `http://127.0.0.1:${ownerPort}`], { env });
    const standby = startCli(
      [
        'serve',
        ...common,
        '--standby',
        '--port',
        String(standbyPort),
        '--advertise-url',
        `http://127.0.0.1:${standbyPort}`,
      ],
      { env },
    );
    await standby.waitFor((output) => output.stderr.includes('standing by'));
    expect(standby.output.stdout).toBe('');
    owner.child.kill('SIGKILL');
    await standby.waitFor((output) => output.stdout.includes('listening on'), 15_000);
    const where = await locateRuntime({ connection_string: server.url, runtime_id: id });
    expect(where).toMatchObject({ advertise_url: `http://127.0.0.1:${standbyPort}`, epoch: 2 });
    const diagnostics = (await (await fetch(`http://127.0.0.1:${standbyPort}/v1/diagnostics`)).json()) as {
      diagnostics: { code: string }[];
    };
    expect(diagnostics.diagnostics.map((d: { code: string }) => d.code)).toContain('store_lease_taken_over');
  });
});
