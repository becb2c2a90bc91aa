// What both SSE bench servers share: the stdin protocol and the delta payloads, so they send the same bytes.
import { createInterface } from 'node:readline';

/** Deltas a writer may be ahead of the slowest reader (well under max_stream_buffer_bytes). */
export const WINDOW = 200;

/**
 * The content of the next delta: a CLOCK_MONOTONIC timestamp (ns, the same clock in every process) so
 * a reader can tell how long the delta took, padded to a fixed length like a token or two.
 */
export function deltaContent() {
  return String(process.hrtime.bigint()).padStart(24, '0');
}

/**
 * Reads control lines from stdin: `fanout` (emit deltas as fast as the readers take them, at most
 * WINDOW ahead of `ack <n>`, the slowest reader's count), `latency <count> <interval_ms>`, `stop`, and
 * `cpu` (answered with a `CPU {user,system}` line: this process's CPU time so far, µs). Exits when
 * stdin closes, after `cleanup`.
 */
export function control({ onFanout, onLatency, onStop, cleanup }) {
  const state = { acked: 0, wake: null };
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const [command, a, b] = line.trim().split(' ');
    if (command === 'cpu') process.stdout.write(`CPU ${JSON.stringify(process.cpuUsage())}\n`);
    else if (command === 'ack') {
      state.acked = Number(a);
      state.wake?.();
    } else if (command === 'fanout') onFanout(state);
    else if (command === 'latency') onLatency(Number(a), Number(b));
    else if (command === 'stop') {
      onStop();
      state.wake?.();
    }
  });
  lines.on('close', async () => {
    await cleanup();
    process.exit(0);
  });
}

/** Waits for the next `ack` (or `stop`). */
export function nextAck(state) {
  return new Promise((resolve) => {
    state.wake = () => {
      state.wake = null;
      resolve();
    };
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const turn = () => new Promise((resolve) => setImmediate(resolve));
