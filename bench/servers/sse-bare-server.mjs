// The sse_fanout / delta_latency baseline: a bare node:http SSE server broadcasting the frames the
// Runtime would send for the same deltas (same JSON, same framing) to every reader.
import { createServer } from 'node:http';
import { control, deltaContent, nextAck, sleep, turn, WINDOW } from './sse-control.mjs';

const readers = new Set();
const worker_ref = { runtime_id: 'bench-runtime-000000000000', worker_id: 'bench' };
const run_id = '019ad000-0000-7000-8000-000000000000';
let offset = 0;
let stopped = false;

function broadcast() {
  const content = deltaContent();
  const data = JSON.stringify({ worker_ref, run_id, entry: 0, offset, content });
  offset += content.length;
  const frame = Buffer.from(`event: output_delta\ndata: ${data}\n\n`);
  for (const res of readers) res.write(frame);
}

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write('retry: 1000\n\n');
  readers.add(res);
  res.on('close', () => readers.delete(res));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

control({
  onFanout: async (state) => {
    stopped = false;
    let emitted = 0;
    while (!stopped) {
      if (emitted - state.acked >= WINDOW) {
        await nextAck(state);
        continue;
      }
      broadcast();
      emitted++;
      await turn();
    }
  },
  onLatency: async (count, interval) => {
    stopped = false;
    for (let i = 0; i < count && !stopped; i++) {
      broadcast();
      await sleep(interval);
    }
  },
  onStop: () => {
    stopped = true;
  },
  cleanup: async () => {
    for (const res of readers) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  },
});
process.stdout.write(
  `READY ${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}`, path: '/stream' })}\n`,
);
