// sse_fanout / delta_latency: serveRuntime whose engine produces output deltas on command.
import { loadPackage } from '../lib/figure.mjs';
import { control, deltaContent, nextAck, sleep, turn, WINDOW } from './sse-control.mjs';

const { Runtime } = await loadPackage('@worker-runtime/core');
const { serveRuntime } = await loadPackage('@worker-runtime/http');

let job = null;
let stopped = false;
const engine = {
  name: 'bench_stream',
  async run(run) {
    const current = job;
    let emitted = 0;
    if (current.kind === 'fanout') {
      while (!stopped) {
        if (emitted - current.state.acked >= WINDOW) {
          await nextAck(current.state);
          continue;
        }
        run.delta(deltaContent());
        emitted++;
        await turn();
      }
    } else {
      for (let i = 0; i < current.count && !stopped; i++) {
        run.delta(deltaContent());
        await sleep(current.interval);
      }
    }
    await run.append({ role: 'assistant', content: 'done' });
  },
};

const runtime = await Runtime.open({
  display_name: 'bench',
  engines: [engine],
  profiles: { stream: { engine: 'bench_stream' } },
  limits: { max_streams: 2000 },
});
await runtime.createWorker({
  worker_id: 'bench',
  intent: { kind: 'assistant' },
  profile: { kind: 'named', value: 'stream' },
});
const server = await serveRuntime({ runtime, host: '127.0.0.1', port: 0 });

function start(next) {
  job = next;
  stopped = false;
  void runtime.sendInput('bench', { kind: 'user', content: next.kind, on_busy: 'enqueue' });
}

control({
  onFanout: (state) => start({ kind: 'fanout', state }),
  onLatency: (count, interval) => start({ kind: 'latency', count, interval }),
  onStop: () => {
    stopped = true;
  },
  cleanup: async () => {
    await server.close();
    await runtime.close();
  },
});
process.stdout.write(`READY ${JSON.stringify({ url: server.url, path: '/v1/events/stream?worker_id=bench' })}\n`);
