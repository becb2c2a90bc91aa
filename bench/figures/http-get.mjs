// http_get / http_get_cpu: GET /v1/workers/{id} with autocannon, serveRuntime vs a bare node:http server:
// requests/s, and the server process's CPU time per request over the load.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startServer } from '../lib/child.mjs';
import { emit, figure, figureOptions, fmt, progress, REPO_ROOT, reasonOf } from '../lib/figure.mjs';

const { tmp, seconds = 2, rounds = 4, warmup_seconds = 1, connections = 32, profile_dir } = figureOptions();
// With --cpu-prof the servers are profiled too: that is where the time goes.
const nodeArgs = profile_dir ? ['--cpu-prof', '--cpu-prof-dir', profile_dir] : [];
const servers = join(REPO_ROOT, 'bench', 'servers');

function load(url) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, pipelining: 1 }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}

/**
 * Requests/s against `server` at `url` (after a warm-up when asked) and the server's CPU µs per
 * request over the load; fails on any error or non-2xx answer.
 */
async function measure(label, server, url, warm) {
  if (warm) {
    await new Promise((resolve, reject) =>
      autocannon({ url, connections, duration: warmup_seconds }, (error) => (error ? reject(error) : resolve())),
    );
  }
  const before = await server.cpu();
  const result = await load(url);
  const after = await server.cpu();
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(`${label}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
  }
  const rate = result.requests.total / result.duration;
  const cpu = (after.user - before.user + after.system - before.system) / result.requests.total;
  progress(`${label}: ${fmt(rate)} req/s, ${fmt(cpu)} µs CPU per request (p99 latency ${result.latency.p99} ms)`);
  return { rate, cpu };
}

let ours;
let bare;
try {
  ours = await startServer(join(servers, 'runtime-server.mjs'), [], { nodeArgs });
  const url = `${ours.info.url}/v1/workers/${ours.info.worker_id}`;
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${new URL(url).pathname} answered ${response.status}`);
  const body = Buffer.from(await response.arrayBuffer());
  const capturePath = join(tmp, 'http-get-response.json');
  writeFileSync(
    capturePath,
    JSON.stringify({
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: body.toString('base64'),
    }),
  );
  progress(`response: ${body.length} bytes, headers: ${[...response.headers.keys()].join(', ')}`);
  bare = await startServer(join(servers, 'bare-server.mjs'), [capturePath], { nodeArgs });
  const bareUrl = `${bare.info.url}/v1/workers/${ours.info.worker_id}`;
  // Alternating rounds, best of each side: the machine is shared, so a burst of noise should not
  // land on one side only. Only the server being loaded uses CPU; the other one idles. The order
  // flips every round (ours, bare, bare, ours, …), so a drift in the machine's load favours neither,
  // and several short rounds give each side more chances at a quiet moment than two long ones.
  // CPU per request: the lowest of each side's rounds (outside load only ever adds to it).
  const best = { ours: { rate: 0, cpu: Infinity }, bare: { rate: 0, cpu: Infinity } };
  const keep = (side, { rate, cpu }) => {
    best[side] = { rate: Math.max(best[side].rate, rate), cpu: Math.min(best[side].cpu, cpu) };
  };
  const sides = [
    { side: 'ours', label: 'serveRuntime', server: ours, target: url },
    { side: 'bare', label: 'bare node:http', server: bare, target: bareUrl },
  ];
  for (let round = 0; round < rounds; round++) {
    for (const { side, label, server, target } of round % 2 === 0 ? sides : [...sides].reverse()) {
      keep(side, await measure(label, server, target, round === 0));
    }
  }
  const value = figure(best.ours.rate, best.bare.rate, 'req/s');
  emit('http_get', value, {
    line: `serveRuntime ${fmt(value.ours)} req/s vs bare node:http ${fmt(value.baseline)} req/s (same ${body.length} bytes, ${connections} connections, best of ${rounds} × ${seconds} s)`,
  });
  const cpu = figure(best.ours.cpu, best.bare.cpu, 'µs CPU/request');
  emit('http_get_cpu', cpu, {
    line: `server process CPU per request (process.cpuUsage over the load, lowest of ${rounds} rounds): serveRuntime ${fmt(cpu.ours)} µs vs bare node:http ${fmt(cpu.baseline)} µs`,
  });
} catch (error) {
  emit('http_get', null, { reason: reasonOf(error) });
  emit('http_get_cpu', null, { reason: reasonOf(error) });
} finally {
  await ours?.stop();
  await bare?.stop();
}
