// The failover drill of SPEC §15: `worker-runtime serve --store postgres` processes for one runtime
// id (an owner and a standby), a client sending inputs with idempotency keys to whoever
// `locateRuntime` names, and the owner killed with SIGKILL at random moments. Used by the CLI's
// test (10 rounds) and by bench/failover-drill.mjs (more rounds, printed numbers).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { locateRuntime } from '@worker-runtime/pg-store';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Each execution of the `count` profile appends its input to `executions` first: the engine counts itself. */
async function writeConfig(dir) {
  const log = join(dir, 'executions');
  const config = {
    profiles: {
      count: {
        engine: 'command',
        command: ['/bin/sh', '-c', `read -r line; echo "$line" >> '${log}'; sleep 0.15; echo "done $line"`],
        input: 'stdin',
      },
      slow: {
        engine: 'command',
        command: ['/bin/sh', '-c', `read -r line; echo "$line" >> '${log}'; sleep 2; echo "late $line"`],
        input: 'stdin',
      },
    },
  };
  const path = join(dir, 'config.json');
  await writeFile(path, JSON.stringify(config));
  return { path, log };
}

/** One `serve` process; `ready` resolves with the ms from `since` (or spawn) to its ready line. */
async function startServe({ cliPath, databaseUrl, runtimeId, configPath, leaseMs, standby }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [cliPath, 'serve', '--store', 'postgres', '--runtime-id', runtimeId, '--port', String(port)];
  args.push(
    '--advertise-url',
    url,
    '--lease-ms',
    String(leaseMs),
    '--config',
    configPath,
    '--max-queued-inputs',
    '10000',
  );
  if (standby) args.push('--standby');
  const env = { ...process.env, WORKER_RUNTIME_DATABASE_URL: databaseUrl };
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    output.stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    output.stderr += chunk;
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = async (predicate, timeoutMs = 30_000) => {
    const deadline = performance.now() + timeoutMs;
    while (!predicate(output)) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`serve exited first: ${output.stderr.slice(-2000)}`);
      }
      if (performance.now() > deadline) throw new Error(`serve timed out: ${output.stderr.slice(-2000)}`);
      await sleep(5);
    }
    return performance.now();
  };
  return { child, url, output, exited, waitFor, ready: () => waitFor((o) => o.stdout.includes('listening on')) };
}

/** Starts `serve` processes for one runtime and kills them all at the end (SIGCONT first: one may be paused). */
function launcher(options) {
  const processes = [];
  return {
    async start(standby) {
      const started = await startServe({ ...options, standby });
      processes.push(started);
      return started;
    },
    killAll() {
      for (const process of processes) {
        process.child.kill('SIGCONT');
        process.child.kill('SIGKILL');
      }
    },
  };
}

/** Starts the owner, then a standby once the owner serves, and creates worker `w` on `profile`. */
async function startPair(start, profile) {
  const owner = await start(false);
  await owner.ready();
  const standby = await start(true);
  await standby.waitFor((o) => o.stderr.includes('standing by'));
  await call(owner.url, '/v1/workers', {
    method: 'POST',
    body: JSON.stringify({ worker_id: 'w', intent: { kind: 'assistant' }, profile: { kind: 'named', value: profile } }),
  });
  return { owner, standby };
}

async function call(url, path, init = {}) {
  const response = await fetch(`${url}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(5000),
  });
  const body = await response.json();
  if (!response.ok) throw Object.assign(new Error(body.error?.message ?? response.status), { status: response.status });
  return body;
}

/** All runs of worker `w` (pages of 1000). */
async function allRuns(url) {
  const runs = [];
  let cursor = null;
  do {
    const page = await call(
      url,
      `/v1/workers/w/runs?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    runs.push(...page.runs);
    cursor = page.next_cursor;
  } while (cursor);
  return runs;
}

function fail(message) {
  throw new Error(`failover drill: ${message}`);
}

/** A broken invariant inside one check; {@link checkRuns} adds which check it was. */
function violated(message) {
  throw new Error(message);
}

/**
 * Runs the drill and checks, after every takeover and at the end, that every acknowledged input is
 * present exactly once, that no run executed twice, that no run is left running and that queued runs
 * resumed to completion.
 * @returns {Promise<{rounds: number, inputs: number, interrupted: number, completed: number, takeover_ms: number[]}>}
 */
export async function runFailoverDrill({ cliPath, databaseUrl, dir, rounds = 10, leaseMs = 1000, log = () => {} }) {
  const runtimeId = `drill-${randomBytes(4).toString('hex')}`;
  const config = await writeConfig(dir);
  const options = { cliPath, databaseUrl, runtimeId, configPath: config.path, leaseMs };
  const serve = launcher(options);
  try {
    let { owner, standby } = await startPair(serve.start, 'count');

    // The client: one input after another, each retried with its key until acknowledged.
    const acked = new Map();
    let sending = true;
    const sender = (async () => {
      for (let n = 0; sending; n++) {
        const key = `k${n}`;
        const body = JSON.stringify({ kind: 'user', content: `input-${n}`, on_busy: 'enqueue', idempotency_key: key });
        for (;;) {
          try {
            const where = await locateRuntime({ connection_string: databaseUrl, runtime_id: runtimeId });
            const { ack } = await call(where.advertise_url, '/v1/workers/w/input', { method: 'POST', body });
            acked.set(key, ack.run_id);
            break;
          } catch {
            await sleep(20);
          }
        }
        await sleep(15);
      }
    })();

    const takeovers = [];
    for (let round = 1; round <= rounds; round++) {
      await sleep(200 + Math.random() * 800);
      const killedAt = performance.now();
      owner.child.kill('SIGKILL');
      const readyAt = await standby.ready();
      takeovers.push(readyAt - killedAt);
      const kill = `owner pid ${owner.child.pid} killed, standby pid ${standby.child.pid} took over`;
      owner = standby;
      standby = await serve.start(true);
      await checkRuns(owner.url, acked, config.log, { final: false, round, kill });
      log(
        `round ${round}: standby serving ${(readyAt - killedAt).toFixed(0)} ms after the kill; ${acked.size} inputs acknowledged`,
      );
    }
    sending = false;
    await sender;
    // Let the queue drain: every run must end, and every queued one must complete.
    const deadline = performance.now() + 60_000;
    for (;;) {
      const runs = await allRuns(owner.url);
      if (runs.every((run) => !['queued', 'running'].includes(run.status))) break;
      if (performance.now() > deadline) fail(`runs were still unfinished a minute after round ${rounds}`);
      await sleep(100);
    }
    const summary = await checkRuns(owner.url, acked, config.log, { final: true });
    return { rounds, inputs: acked.size, ...summary, takeover_ms: takeovers };
  } finally {
    serve.killAll();
  }
}

/**
 * Checks one listing of the runs against the acknowledged inputs. Only the acks recorded before the
 * listing was asked for are required in it: the sender runs on meanwhile, and an input acknowledged
 * while the list was being read may have committed after the read (it is required next time).
 * A failure names the check: a round's (`{ final: false, round, kill }`, right after that round's
 * takeover) or the final one (`{ final: true }`, after the client stopped and every run ended: only
 * that one proves an input was lost, a round's check sees a runtime that has just taken over).
 * @returns {Promise<{interrupted: number, completed: number}>}
 */
export async function checkRuns(url, acked, executionsPath, check) {
  try {
    return await checkListing(url, acked, executionsPath, check.final);
  } catch (error) {
    throw new Error(`failover drill: ${checkName(check)}: ${error.message}`, { cause: error });
  }
}

/** Which check this is, in words: the round and its kill, or the final check. */
function checkName({ final, round, kill }) {
  if (final) return 'the final check (after the client stopped and every run ended)';
  return `the check of round ${round} (after kill ${round}: ${kill ?? 'the owner killed'})`;
}

async function checkListing(url, acked, executionsPath, final) {
  const expected = new Map(acked);
  const runs = await allRuns(url);
  const byKey = new Map();
  for (const run of runs) {
    if (byKey.has(run.idempotency_key)) violated(`key ${run.idempotency_key} has two runs`);
    byKey.set(run.idempotency_key, run);
  }
  for (const [key, run_id] of expected) {
    if (byKey.get(key)?.run_id !== run_id) violated(`acknowledged input ${key} (${run_id}) is missing`);
  }
  if (runs.filter((run) => run.status === 'running').length > 1) violated('more than one run is running');
  const executions = existsSync(executionsPath) ? readFileSync(executionsPath, 'utf8').split('\n').filter(Boolean) : [];
  const counts = new Map();
  for (const line of executions) counts.set(line, (counts.get(line) ?? 0) + 1);
  for (const [content, count] of counts) if (count > 1) violated(`${content} was executed ${count} times`);
  const transcript = await call(url, '/v1/workers/w/transcript?start=0&limit=1000');
  const users = transcript.transcript.items.filter((entry) => entry.role === 'user').map((entry) => entry.content);
  if (new Set(users).size !== users.length) violated('an input appears twice in the transcript');
  if (final) {
    if (runs.length !== acked.size) violated(`${runs.length} runs for ${acked.size} acknowledged inputs`);
    if (users.length !== acked.size && transcript.transcript.total_items <= 1000)
      violated('an input is missing from the transcript');
    for (const run of runs) {
      if (!['completed', 'interrupted'].includes(run.status)) violated(`run ${run.run_id} ended ${run.status}`);
      const content = `input-${run.idempotency_key.slice(1)}`;
      if (run.status === 'completed' && counts.get(content) !== 1)
        violated(`completed ${content} did not execute once`);
    }
  }
  return {
    interrupted: runs.filter((run) => run.status === 'interrupted').length,
    completed: runs.filter((run) => run.status === 'completed').length,
  };
}

/**
 * An owner paused (SIGSTOP) past its lease while a run is active, while a standby takes over, then
 * resumed (SIGCONT): it must write nothing, and exit once it sees its lease gone.
 * @returns {Promise<{unchanged: boolean, exit_code: number | null, run_status: string}>}
 */
export async function runPausedOwnerDrill({ cliPath, databaseUrl, dir, leaseMs = 1000 }) {
  const runtimeId = `paused-${randomBytes(4).toString('hex')}`;
  const config = await writeConfig(dir);
  const options = { cliPath, databaseUrl, runtimeId, configPath: config.path, leaseMs };
  const serve = launcher(options);
  try {
    const { owner, standby } = await startPair(serve.start, 'slow');
    const { ack } = await call(owner.url, '/v1/workers/w/input', {
      method: 'POST',
      body: JSON.stringify({ kind: 'user', content: 'paused-run' }),
    });
    owner.child.kill('SIGSTOP');
    await standby.ready();
    const before = {
      events: await call(standby.url, '/v1/events?after=0&limit=1000'),
      transcript: await call(standby.url, '/v1/workers/w/transcript'),
    };
    owner.child.kill('SIGCONT');
    // The woken owner's run finishes (its command ran on while node was stopped) and tries to write.
    const exit = await Promise.race([owner.exited, sleep(10_000).then(() => ({ code: null }))]);
    await sleep(500);
    const after = {
      events: await call(standby.url, '/v1/events?after=0&limit=1000'),
      transcript: await call(standby.url, '/v1/workers/w/transcript'),
    };
    const run = await call(standby.url, `/v1/workers/w/runs/${ack.run_id}`);
    return {
      unchanged: JSON.stringify(before) === JSON.stringify(after),
      exit_code: exit.code,
      run_status: run.run.status,
      owner_log: owner.output.stderr,
    };
  } finally {
    serve.killAll();
  }
}
