// The server under test for http_get: serveRuntime on a memory-store Runtime with one worker that has run once.
import { exitWhenParentCloses } from '../lib/child.mjs';
import { loadPackage } from '../lib/figure.mjs';

const { Runtime } = await loadPackage('@worker-runtime/core');
const { serveRuntime } = await loadPackage('@worker-runtime/http');

const runtime = await Runtime.open({ display_name: 'bench' });
const worker = await runtime.createWorker({
  worker_id: 'bench-worker',
  display_name: 'Benchmark worker',
  intent: { kind: 'assistant', purpose: 'answers GET /v1/workers/{id} under load' },
  profile: { kind: 'runtime_default' },
  metadata: { team: 'bench' },
});
const ack = await runtime.sendInput(worker.worker_id, { kind: 'user', content: 'hello' });
await runtime.getRun(worker.worker_id, ack.run_id, { wait_ms: 10_000 });
const server = await serveRuntime({ runtime, host: '127.0.0.1', port: 0 });
exitWhenParentCloses(async () => {
  await server.close();
  await runtime.close();
});
process.stdout.write(`READY ${JSON.stringify({ url: server.url, worker_id: worker.worker_id })}\n`);
