import { isRuntimeError, Runtime, type WatchItem } from '@worker-runtime/core';
import { afterEach, describe, expect, test } from 'vitest';
import { createRuntimeClient, type InputStreamItem } from './client.js';
import { serveRuntime } from './server.js';
import { createHoldEngine, TOKEN } from './test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const WORDS = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu';
const FAST = { min_delay_ms: 20, max_delay_ms: 200 };

async function start() {
  const hold = createHoldEngine();
  const runtime = await Runtime.open({
    engines: [hold],
    profiles: { hold: { engine: 'hold' }, stream: { engine: 'echo', prefix: '', stream_chunk_ms: 15 } },
  });
  cleanups.push(() => runtime.close());
  const server = await serveRuntime({ runtime, port: 0, token: TOKEN });
  cleanups.push(() => server.close());
  const client = createRuntimeClient({ baseUrl: server.url, token: TOKEN, reconnect: FAST });
  await client.createWorker({
    worker_id: 'w1',
    intent: { kind: 'assistant' },
    profile: { kind: 'named', value: 'stream' },
  });
  await client.createWorker({
    worker_id: 'h1',
    intent: { kind: 'assistant' },
    profile: { kind: 'named', value: 'hold' },
  });
  return { runtime, server, client, hold };
}

/**
 * A fetch whose first `cuts` stream responses break after `after` SSE messages, like a dropped
 * connection mid-reply.
 */
function cuttingFetch(after: number, cuts: number): typeof fetch {
  let remaining = cuts;
  return async (input, init) => {
    const response = await fetch(input, init);
    const streaming = response.headers.get('content-type') === 'text/event-stream';
    if (!streaming || remaining === 0 || !response.body) return response;
    remaining--;
    let seen = 0;
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        seen += new TextDecoder().decode(value).split('\n\n').length - 1;
        controller.enqueue(value);
        if (seen >= after) {
          await reader.cancel();
          controller.error(new Error('connection reset'));
        }
      },
      cancel: () => reader.cancel(),
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
}

function text(items: ReadonlyArray<InputStreamItem | WatchItem>): string {
  return items.map((item) => (item.type === 'delta' ? item.content : '')).join('');
}

function eventIds(items: ReadonlyArray<InputStreamItem | WatchItem>): number[] {
  return items.flatMap((item) => (item.type === 'event' ? [item.event.id] : []));
}

describe('client stream iterators', () => {
  test('sendInput({stream: true}) yields the ack, the reply as it streams, and ends after the run', async () => {
    const { client, runtime } = await start();
    const items: InputStreamItem[] = [];
    for await (const item of client.sendInput('w1', { kind: 'user', content: WORDS }, { stream: true }))
      items.push(item);
    expect(items[0]).toMatchObject({ type: 'ack', ack: { run_status: 'running', replayed: false } });
    expect(text(items)).toBe(WORDS);
    const last = items.at(-1);
    expect(last?.type === 'event' && last.event.kind).toBe('run_completed');
    expect((await runtime.transcript('w1', { tail: 1 })).items[0]?.content).toBe(WORDS);
  });

  test('a dropped connection mid-reply resumes with Last-Event-ID: no event twice, the text exactly once', async () => {
    const { server } = await start();
    const client = createRuntimeClient({
      baseUrl: server.url,
      token: TOKEN,
      fetch: cuttingFetch(5, 2),
      reconnect: FAST,
    });
    const items: InputStreamItem[] = [];
    for await (const item of client.sendInput('w1', { kind: 'user', content: WORDS }, { stream: true }))
      items.push(item);
    expect(text(items)).toBe(WORDS);
    const ids = eventIds(items);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const last = items.at(-1);
    expect(last?.type === 'event' && last.event.kind).toBe('run_completed');
  });

  test('streamRun replays a finished run from its start, or after last_event_id, and ends', async () => {
    const { client } = await start();
    const ack = await client.sendInput('w1', { kind: 'user', content: 'hi you' });
    await client.getRun('w1', ack.run_id as string, { wait_ms: 5000 });
    const all: WatchItem[] = [];
    for await (const item of client.streamRun('w1', ack.run_id as string)) all.push(item);
    expect(all.map((item) => item.type === 'event' && item.event.kind)).toEqual([
      'worker_input_accepted',
      'run_started',
      'transcript_appended',
      'transcript_appended',
      'run_completed',
    ]);
    const ids = eventIds(all);
    const tail: WatchItem[] = [];
    for await (const item of client.streamRun('w1', ack.run_id as string, { last_event_id: ids[2] as number })) {
      tail.push(item);
    }
    expect(eventIds(tail)).toEqual(ids.slice(3));
  });

  test('watchEvents follows across a server restart without repeating an event', async () => {
    const { runtime, server, client } = await start();
    const port = server.port;
    const stop = new AbortController();
    const seen: WatchItem[] = [];
    const reading = (async () => {
      for await (const item of client.watchEvents({ after: 0, worker_id: 'h1', signal: stop.signal })) {
        seen.push(item);
        if (item.type === 'event' && item.event.kind === 'worker_stopped') stop.abort();
      }
    })();
    await client.sendInput('h1', { kind: 'system', content: 'one' });
    await server.close();
    await runtime.sendInput('h1', { kind: 'system', content: 'two' });
    const again = await serveRuntime({ runtime, port, token: TOKEN });
    cleanups.push(() => again.close());
    await client.stopWorker('h1');
    await reading;
    const ids = eventIds(seen);
    expect(new Set(ids).size).toBe(ids.length);
    const kinds = seen.map((item) => item.type === 'event' && item.event.kind);
    expect(kinds[0]).toBe('worker_created');
    expect(kinds.filter((kind) => kind === 'worker_input_accepted')).toHaveLength(2);
    expect(kinds.at(-1)).toBe('worker_stopped');
  });

  test('accepting errors come from the first next(); a bad cursor is not retried', async () => {
    const { client, hold } = await start();
    const held = await client.sendInput('h1', { kind: 'user', content: 'x' });
    const busy = client.sendInput('h1', { kind: 'user', content: 'y' }, { stream: true });
    await expect(busy.next()).rejects.toMatchObject({ code: 'worker_busy', status: 409 });
    const ahead = client.watchEvents({ after: 10_000 });
    const error = await ahead.next().catch((e: unknown) => e);
    expect(isRuntimeError(error) && error.code).toBe('invalid_request');
    await expect(client.streamRun('h1', 'nope').next()).rejects.toMatchObject({ code: 'run_not_found' });
    hold.releaseAll();
    const system: InputStreamItem[] = [];
    for await (const item of client.sendInput('h1', { kind: 'system', content: 'n' }, { stream: true }))
      system.push(item);
    expect(system).toEqual([{ type: 'ack', ack: expect.objectContaining({ run_id: null }) }]);
    expect(held.run_id).toBeTruthy();
  });

  test('a server that stays down ends the iterator with runtime_unavailable after the bounded attempts', async () => {
    const { server, runtime } = await start();
    const client = createRuntimeClient({
      baseUrl: server.url,
      token: TOKEN,
      reconnect: { attempts: 3, min_delay_ms: 10, max_delay_ms: 20 },
    });
    const iterator = client.watchEvents({ after: 0 });
    expect((await iterator.next()).value).toMatchObject({ type: 'event' });
    await server.close();
    await runtime.close();
    let error: unknown;
    try {
      for (;;) if ((await iterator.next()).done) break;
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'runtime_unavailable' });
  });
});
