// The longer failover drill (SPEC §15): owner + standby `serve --store postgres` processes, the owner
// killed with SIGKILL at random moments, every invariant checked after each takeover.
//
//   node bench/failover-drill.mjs [--rounds 50] [--lease-ms 1000]
//
// Needs the built CLI (pnpm build) and a PostgreSQL: WORKER_RUNTIME_TEST_DATABASE_URL, or Debian's
// postgresql binaries for a throwaway server. Prints one JSON object on the last stdout line.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startTestPostgres } from '../scripts/test-postgres.mjs';
import { runFailoverDrill, runPausedOwnerDrill } from './lib/failover-drill.mjs';
import { REPO_ROOT } from './lib/figure.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, 'lease-ms': { type: 'string' } } });
const rounds = Number(values.rounds ?? 50);
const leaseMs = Number(values['lease-ms'] ?? 1000);
const cliPath = join(REPO_ROOT, 'packages', 'runtime-cli', 'dist', 'cli.js');
if (!existsSync(cliPath)) {
  console.error('packages/runtime-cli is not built: run pnpm build first');
  process.exit(1);
}
const server = await startTestPostgres();
const dir = mkdtempSync(join(tmpdir(), 'wr-failover-'));
try {
  const log = (line) => process.stderr.write(`${line}\n`);
  await drillAndPrint(log);
} catch (error) {
  // The message names the check that failed (a round's, or the final one); the stack adds nothing.
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function drillAndPrint(log) {
  const drill = await runFailoverDrill({ cliPath, databaseUrl: server.url, dir, rounds, leaseMs, log });
  const paused = await runPausedOwnerDrill({ cliPath, databaseUrl: server.url, dir, leaseMs });
  const sorted = [...drill.takeover_ms].sort((a, b) => a - b);
  const at = (q) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
  console.log(
    JSON.stringify({
      rounds: drill.rounds,
      lease_ms: leaseMs,
      inputs: drill.inputs,
      interrupted: drill.interrupted,
      completed: drill.completed,
      takeover_ms: { min: Math.round(sorted[0]), p50: at(0.5), p90: at(0.9), max: Math.round(sorted.at(-1)) },
      paused_owner: { wrote_nothing: paused.unchanged, exit_code: paused.exit_code, run_status: paused.run_status },
    }),
  );
}
