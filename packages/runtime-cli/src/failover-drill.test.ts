import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runFailoverDrill, runPausedOwnerDrill } from '../../../bench/lib/failover-drill.mjs';
import { startTestPostgres, type TestPostgres } from '../../../scripts/test-postgres.mjs';
import { CLI_PATH } from './test-support/cli-process.js';

let server: TestPostgres;
let dir: string;
beforeAll(async () => {
  server = await startTestPostgres();
  dir = await mkdtemp(join(tmpdir(), 'wr-drill-'));
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

// Real processes, a real PostgreSQL, lease_ms 1000: each round is a kill, an expiry and a takeover.
describe('failover drill (serve --store postgres, owner + standby)', () => {
  test('after every kill -9 of the owner: acknowledged inputs once each, no run twice, queue resumes', async () => {
    const result = await runFailoverDrill({ cliPath: CLI_PATH, databaseUrl: server.url, dir, rounds: 10 });
    expect(result.rounds).toBe(10);
    expect(result.takeover_ms).toHaveLength(10);
    expect(result.inputs).toBeGreaterThan(10);
    expect(result.completed + result.interrupted).toBe(result.inputs);
    console.log(
      `failover drill: ${result.inputs} inputs, ${result.interrupted} interrupted, takeover ms ${result.takeover_ms.map((ms) => ms.toFixed(0)).join(' ')}`,
    );
  }, 120_000);

  test('an owner paused past its lease writes nothing after it wakes, and exits', async () => {
    const result = await runPausedOwnerDrill({ cliPath: CLI_PATH, databaseUrl: server.url, dir: join(dir) });
    expect(result.run_status).toBe('interrupted');
    expect(result.unchanged).toBe(true);
    expect(result.exit_code).toBe(1);
    expect(result.owner_log).toContain('lost ownership');
  }, 60_000);
});
