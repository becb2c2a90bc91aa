// http_get: GET /v1/workers/{id} requests/s with autocannon, serveRuntime vs a bare node:http server.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startServer } from '../lib/child.mjs';
import { emit, figure, figureOptions, fmt, progress, REPO_ROOT, reasonOf } from '../lib/figure.mjs';

const { tmp, seconds = 4, rounds = 2, warmup_seconds = 1, connections = 32, profile_dir } = figureOptions();
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

/** Requests/s against `url` (after a warm-up when asked), failing on any error or non-2xx answer. */
async function measure(label, url, warm) {
  if (warm) {
    await new Promise((resolve, reject) =>
      autocannon({ url, connections, duration: warmup_seconds }, (error) => (error ? reject(error) : resolve())),
    );
  }
  const result = await load(url);
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(`${label}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
  }
  const rate = result.requests.total / result.duration;
  progress(`${label}: ${fmt(rate)} req/s (p99 latency ${result.latency.p99} ms)`);
  return rate;
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
  // land on one side only. Only the server being loaded uses CPU; the other one idles.
  let oursRate = 0;
  let bareRate = 0;
  for (let round = 0; round < rounds; round++) {
    oursRate = Math.max(oursRate, await measure('serveRuntime', url, round === 0));
    bareRate = Math.max(bareRate, await measure('bare node:http', bareUrl, round === 0));
  }
  const value = figure(oursRate, bareRate, 'req/s');
  emit('http_get', value, {
    line: `serveRuntime ${fmt(value.ours)} req/s vs bare node:http ${fmt(value.baseline)} req/s (same ${body.length} bytes, ${connections} connections, best of ${rounds} × ${seconds} s)`,
  });
} catch (error) {
  emit('http_get', null, { reason: reasonOf(error) });
} finally {
  await ours?.stop();
  await bare?.stop();
}
