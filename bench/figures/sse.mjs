// sse_fanout: output deltas delivered per second to 500 /v1/events/stream readers, serveRuntime vs a
// bare node:http SSE server broadcasting the same frames. delta_latency: engine delta() → bytes at
// the readers, p50/p99, vs the bare server's write → read. Both servers run in their own process;
// the readers run here; timestamps are CLOCK_MONOTONIC (process.hrtime), shared by all processes.
import { Agent, get } from 'node:http';
import { join } from 'node:path';
import { startServer } from '../lib/child.mjs';
import { emit, figure, figureOptions, fmt, progress, REPO_ROOT, reasonOf } from '../lib/figure.mjs';

const {
  readers = 500,
  rounds = 2,
  seconds = 4,
  warmup_seconds = 1,
  latency_count = 150,
  latency_interval_ms = 20,
  profile_dir,
} = figureOptions();
const nodeArgs = profile_dir ? ['--cpu-prof', '--cpu-prof-dir', profile_dir] : [];
const servers = join(REPO_ROOT, 'bench', 'servers');
const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
const CONTENT = /"content":"(\d{24})"/g;

/** Opens `count` streams; each counts output_delta frames and records delivery latencies when asked. */
async function openReaders(url, count) {
  const list = [];
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async () => {
        const reader = { frames: 0, tail: '', latencies: null, res: null };
        await new Promise((resolve, reject) => {
          const request = get(url, { agent }, (res) => {
            if (res.statusCode !== 200) reject(new Error(`stream answered ${res.statusCode}`));
            reader.res = res;
            res.setEncoding('utf8');
            res.on('data', (chunk) => {
              const now = process.hrtime.bigint();
              const text = reader.tail + chunk;
              let at = text.indexOf('output_delta');
              while (at !== -1) {
                reader.frames++;
                at = text.indexOf('output_delta', at + 12);
              }
              if (reader.latencies) {
                for (const match of text.matchAll(CONTENT)) {
                  reader.latencies.push(Number(now - BigInt(match[1])) / 1e6);
                }
              }
              // Keep the unfinished end of the last frame: a marker split across chunks still counts once.
              const end = text.lastIndexOf('\n\n');
              reader.tail = end === -1 ? text : text.slice(end + 2);
            });
            res.on('error', () => undefined);
            resolve();
          });
          request.on('error', reject);
        });
        list.push(reader);
      }),
    );
  }
  return list;
}

/** Resolves once no reader has received a frame for 200 ms (at most 10 s). */
async function settled(list) {
  const deadline = Date.now() + 10_000;
  let last = -1;
  for (;;) {
    const total = list.reduce((sum, reader) => sum + reader.frames, 0);
    if (total === last || Date.now() > deadline) return;
    last = total;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Deltas/s delivered to all readers while the server emits as fast as the slowest reader takes them. */
async function fanout(label, server, list) {
  const acker = setInterval(() => {
    let min = Number.POSITIVE_INFINITY;
    for (const reader of list) min = Math.min(min, reader.frames);
    server.send(`ack ${min}`);
  }, 10);
  server.send('fanout');
  await new Promise((resolve) => setTimeout(resolve, warmup_seconds * 1000));
  const before = list.reduce((sum, reader) => sum + reader.frames, 0);
  const cpuBefore = await server.cpu();
  const readersBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const delivered = list.reduce((sum, reader) => sum + reader.frames, 0) - before;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuAfter = await server.cpu();
  const readersCpu = process.cpuUsage(readersBefore);
  server.send('stop');
  clearInterval(acker);
  // The readers may still hold a backlog of up to WINDOW deltas each: let them drain it, so the
  // latency phase that follows measures deltas, not the fan-out's queue.
  await settled(list);
  const rate = delivered / elapsed;
  // CPU per delivered delta (one frame at one reader): steadier than deltas/s on a shared machine.
  const serverCpu = (cpuAfter.user - cpuBefore.user + cpuAfter.system - cpuBefore.system) / delivered;
  const readerCpu = (readersCpu.user + readersCpu.system) / delivered;
  progress(
    `${label}: ${fmt(rate)} deltas/s delivered to ${list.length} readers (${fmt(rate / list.length)} per reader), CPU per delivered delta: server ${fmt(serverCpu)} µs, readers ${fmt(readerCpu)} µs`,
  );
  return { rate, serverCpu, readerCpu };
}

/** p50/p99 of delta() → bytes at every reader, deltas `latency_interval_ms` apart. */
async function latency(label, server, list) {
  for (const reader of list) reader.latencies = [];
  const cpuBefore = await server.cpu();
  server.send(`latency ${latency_count} ${latency_interval_ms}`);
  // Until every reader has every delta (or a bound): a server slow to start the run is not cut short.
  const expected = latency_count * list.length;
  const deadline = Date.now() + latency_count * latency_interval_ms + 5000;
  await new Promise((resolve) => setTimeout(resolve, latency_count * latency_interval_ms));
  while (Date.now() < deadline && list.reduce((sum, reader) => sum + reader.latencies.length, 0) < expected) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const cpuAfter = await server.cpu();
  const all = list.flatMap((reader) => reader.latencies).sort((a, b) => a - b);
  for (const reader of list) reader.latencies = null;
  if (all.length < latency_count) throw new Error(`${label}: only ${all.length} latency samples`);
  // Paced, every delta reaches every reader in its own write on both servers: the server's CPU per
  // delivered delta without the batching a backlog brings.
  const cpu = (cpuAfter.user - cpuBefore.user + cpuAfter.system - cpuBefore.system) / all.length;
  const result = { p50: percentile(all, 50), p99: percentile(all, 99), samples: all.length, cpu };
  progress(
    `${label}: delta → reader p50 ${fmt(result.p50)} ms, p99 ${fmt(result.p99)} ms (${all.length} samples), server CPU per delivered delta ${fmt(cpu)} µs`,
  );
  return result;
}

async function measure(label, script) {
  const server = await startServer(join(servers, script), [], { nodeArgs });
  const list = await openReaders(`${server.info.url}${server.info.path}`, readers);
  try {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const fan = await fanout(label, server, list);
    const lat = await latency(label, server, list);
    return { ...fan, lat };
  } finally {
    for (const reader of list) reader.res?.destroy();
    await server.stop();
  }
}

/** The best of a side's rounds: the highest fan-out rate, the round with the lowest p99 (outside load only adds). */
function best(results) {
  const fan = results.reduce((a, b) => (b.rate > a.rate ? b : a));
  const lat = results.reduce((a, b) => (b.lat.p99 < a.lat.p99 ? b : a)).lat;
  return { rate: fan.rate, serverCpu: Math.min(...results.map((r) => r.serverCpu)), lat };
}

try {
  // Alternating rounds, best of each side (like http_get): the machine is shared, so a burst of
  // outside load should not land on one side only, nor always on the side measured second.
  const results = { ours: [], bare: [] };
  for (let round = 0; round < rounds; round++) {
    results.ours.push(await measure('serveRuntime', 'sse-runtime-server.mjs'));
    results.bare.push(await measure('bare node:http', 'sse-bare-server.mjs'));
  }
  const ours = best(results.ours);
  const bare = best(results.bare);
  const fan = figure(ours.rate, bare.rate, 'deltas/s');
  emit('sse_fanout', fan, {
    line: `serveRuntime ${fmt(fan.ours)} deltas/s vs bare node:http ${fmt(fan.baseline)} deltas/s (${readers} readers, best of ${rounds} × ${seconds} s); server CPU per delivered delta ${fmt(ours.serverCpu)} µs vs ${fmt(bare.serverCpu)} µs (lowest)`,
  });
  const lat = figure(ours.lat.p99, bare.lat.p99, 'ms p99');
  emit('delta_latency', lat, {
    line: `p50 ${fmt(ours.lat.p50)} ms vs ${fmt(bare.lat.p50)} ms · p99 ${fmt(ours.lat.p99)} ms vs ${fmt(bare.lat.p99)} ms (${readers} readers, a delta every ${latency_interval_ms} ms, best p99 of ${rounds} rounds); server CPU per delivered delta ${fmt(ours.lat.cpu)} µs vs ${fmt(bare.lat.cpu)} µs`,
  });
} catch (error) {
  emit('sse_fanout', null, { reason: reasonOf(error) });
  emit('delta_latency', null, { reason: reasonOf(error) });
}
