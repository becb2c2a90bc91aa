// http_get / http_get_cpu: GET /v1/workers/{id} with autocannon, serveRuntime vs a bare node:http server:
// requests/s at full load, and the server process's CPU time per request under the same offered load.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startServer } from '../lib/child.mjs';
import { emit, figure, figureOptions, fmt, progress, REPO_ROOT, reasonOf } from '../lib/figure.mjs';

const { tmp, seconds = 2, rounds = 4, warmup_seconds = 1, connections = 32, profile_dir } = figureOptions();
// The CPU rounds offer this share of the slower side's best full-load rate to both sides.
const CPU_LOAD_SHARE = 0.5;
// With --cpu-prof the servers are profiled too: that is where the time goes.
const nodeArgs = profile_dir ? ['--cpu-prof', '--cpu-prof-dir', profile_dir] : [];
const servers = join(REPO_ROOT, 'bench', 'servers');

/** `seconds` of load on `url`: as fast as the server answers, or `overallRate` requests/s in all. */
function load(url, overallRate) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url, connections, duration: seconds, pipelining: 1, ...(overallRate ? { overallRate } : {}) },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

/**
 * Requests/s against `server` at `url` (after a warm-up when asked) and the server's CPU µs per
 * request over the load (full load, or `overallRate` requests/s); fails on any error or non-2xx answer.
 */
async function measure(label, server, url, warm, overallRate) {
  if (warm) {
    await new Promise((resolve, reject) =>
      autocannon({ url, connections, duration: warmup_seconds }, (error) => (error ? reject(error) : resolve())),
    );
  }
  const before = await server.cpu();
  const result = await load(url, overallRate);
  const after = await server.cpu();
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(`${label}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
  }
  const rate = result.requests.total / result.duration;
  const cpu = (after.user - before.user + after.system - before.system) / result.requests.total;
  const offered = overallRate ? ` (offered ${fmt(overallRate)} req/s)` : '';
  progress(
    `${label}: ${fmt(rate)} req/s${offered}, ${fmt(cpu)} µs CPU per request (p99 latency ${result.latency.p99} ms)`,
  );
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
  const sides = [
    { side: 'ours', label: 'serveRuntime', server: ours, target: url },
    { side: 'bare', label: 'bare node:http', server: bare, target: bareUrl },
  ];
  async function alternate(keep, overallRate) {
    for (let round = 0; round < rounds; round++) {
      for (const { side, label, server, target } of round % 2 === 0 ? sides : [...sides].reverse()) {
        keep(side, await measure(label, server, target, round === 0 && !overallRate, overallRate));
      }
    }
  }
  const best = { ours: { rate: 0, cpu: Infinity }, bare: { rate: 0, cpu: Infinity } };
  await alternate((side, { rate, cpu }) => {
    best[side] = { rate: Math.max(best[side].rate, rate), cpu: Math.min(best[side].cpu, cpu) };
  });
  // CPU per request depends on the request rate (at a higher rate each event-loop wake-up answers
  // more requests), and at full load each side's rate follows the machine's outside load. So CPU
  // is compared under the same offered load: a fixed rate both sides sustain, well below either's
  // best. The lowest of each side's rounds counts (outside load only ever adds to it).
  const offered = Math.max(1000, Math.floor((CPU_LOAD_SHARE * Math.min(best.ours.rate, best.bare.rate)) / 500) * 500);
  const cpuBest = { ours: Infinity, bare: Infinity };
  await alternate((side, { cpu }) => {
    cpuBest[side] = Math.min(cpuBest[side], cpu);
  }, offered);
  const value = figure(best.ours.rate, best.bare.rate, 'req/s');
  emit('http_get', value, {
    line: `serveRuntime ${fmt(value.ours)} req/s vs bare node:http ${fmt(value.baseline)} req/s (same ${body.length} bytes, ${connections} connections, best of ${rounds} × ${seconds} s)`,
  });
  const cpu = figure(cpuBest.ours, cpuBest.bare, 'µs CPU/request');
  emit('http_get_cpu', cpu, {
    line:
      `server process CPU per request (process.cpuUsage, ${fmt(offered)} req/s offered to each, lowest of ${rounds} rounds): ` +
      `serveRuntime ${fmt(cpu.ours)} µs vs bare node:http ${fmt(cpu.baseline)} µs; ` +
      `at full load ${fmt(best.ours.cpu)} vs ${fmt(best.bare.cpu)} µs`,
  });
} catch (error) {
  emit('http_get', null, { reason: reasonOf(error) });
  emit('http_get_cpu', null, { reason: reasonOf(error) });
} finally {
  await ours?.stop();
  await bare?.stop();
}
