import { type EngineRun, Runtime, type RuntimeOptions, type WorkerEngine } from '@worker-runtime/core';
import { afterEach, expect } from 'vitest';
import { serveRuntime } from './server.js';
import { AUTH, createHoldEngine, JSON_HEADERS, TOKEN } from './test-helpers.js';

// What the stream route tests share: a served Runtime with streaming profiles, closed after each test.
export const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Streams `count` deltas of `size` characters as fast as it can, then appends them whole. */
export const burstEngine: WorkerEngine = {
  name: 'burst',
  async run(run: EngineRun) {
    const count = Number(run.input);
    const piece = 'x'.repeat(100);
    for (let i = 0; i < count; i++) {
      run.delta(piece);
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await run.append({ role: 'assistant', content: piece.repeat(count) });
  },
};

export async function startStreaming(options: RuntimeOptions = {}, serve: { streamKeepAliveMs?: number } = {}) {
  const hold = createHoldEngine();
  const runtime = await Runtime.open({
    engines: [hold, burstEngine],
    profiles: {
      hold: { engine: 'hold' },
      stream: { engine: 'echo', prefix: '', stream_chunk_ms: 15 },
      burst: { engine: 'burst' },
    },
    ...options,
  });
  cleanups.push(() => runtime.close());
  const server = await serveRuntime({ runtime, port: 0, token: TOKEN, ...serve });
  cleanups.push(() => server.close());
  const url = server.url;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { headers: { ...AUTH, ...headers } });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });
  const create = async (worker_id: string, profile: string) => {
    const response = await post('/v1/workers', {
      worker_id,
      intent: { kind: 'assistant' },
      profile: { kind: 'named', value: profile },
    });
    expect(response.status).toBe(201);
  };
  return { runtime, hold, server, url, get, post, create };
}

export type Message = { event: string | undefined; id: string | undefined; data: string };
export const kinds = (messages: Message[]) => messages.map((m) => m.event);
export const json = (m: Message | null) => JSON.parse((m as Message).data);
export const WORDS = 'one two three four five six seven eight nine ten eleven twelve';
