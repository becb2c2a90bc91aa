import { getEventListeners } from 'node:events';
import { Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { createRuntimeApp } from './app.js';
import { serveRuntime } from './server.js';
import { sseReader } from './sse-test-helpers.js';
import { cleanups, json, kinds, type Message, startStreaming as start } from './stream-test-support.js';
import { AUTH, bodyOf, createHoldEngine, eventually, TOKEN } from './test-helpers.js';

describe('POST /v1/workers/{worker_id}/input with "stream": true', () => {
  test('the ack first, then the run, ending after its terminal event; Accept works too', async () => {
    const { post, create } = await start();
    await create('w1', 'stream');
    const response = await post('/v1/workers/w1/input', { kind: 'user', content: 'a b', stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const messages = await sseReader(response).rest();
    expect(messages[0]).toMatchObject({ event: 'ack', id: undefined });
    expect(json(messages[0] as Message)).toMatchObject({ run_status: 'running', replayed: false });
    expect(kinds(messages.slice(1).filter((m) => m.id !== undefined))).toEqual([
      'worker_input_accepted',
      'run_started',
      'transcript_appended',
      'transcript_appended',
      'run_completed',
    ]);
    const viaAccept = await post(
      '/v1/workers/w1/input',
      { kind: 'user', content: 'c' },
      { accept: 'text/event-stream' },
    );
    expect(kinds(await sseReader(viaAccept).rest()).at(-1)).toBe('run_completed');
    const notStreamed = await post(
      '/v1/workers/w1/input',
      { kind: 'user', content: 'd', stream: false, on_busy: 'enqueue' },
      { accept: 'text/event-stream' },
    );
    expect(notStreamed.status).toBe(202);
  });

  test('busy and idempotency errors are JSON; a replayed input streams its original run from its start', async () => {
    const { post, create, hold } = await start();
    await create('w1', 'hold');
    const first = sseReader(
      await post('/v1/workers/w1/input', { kind: 'user', content: 'q', idempotency_key: 'k1', stream: true }),
    );
    const ack = json(await first.message());
    const busy = await post('/v1/workers/w1/input', { kind: 'user', content: 'other', stream: true });
    expect(busy.status).toBe(409);
    expect(busy.headers.get('content-type')).toContain('application/json');
    expect((await bodyOf(busy)).error).toMatchObject({ code: 'worker_busy', details: { active_run_id: ack.run_id } });
    const conflict = await post('/v1/workers/w1/input', {
      kind: 'user',
      content: 'changed',
      idempotency_key: 'k1',
      stream: true,
    });
    expect(conflict.status).toBe(409);
    expect((await bodyOf(conflict)).error.code).toBe('idempotency_conflict');
    // `stream` is not part of the input: the same input without it is the same idempotent input.
    const plain = await post('/v1/workers/w1/input', { kind: 'user', content: 'q', idempotency_key: 'k1' });
    expect((await bodyOf(plain)).ack).toMatchObject({ run_id: ack.run_id, replayed: true });
    hold.releaseAll();
    const original = await first.rest();
    const replay = await sseReader(
      await post('/v1/workers/w1/input', { kind: 'user', content: 'q', idempotency_key: 'k1', stream: true }),
    ).rest();
    expect(json(replay[0] as Message)).toEqual({ ...ack, replayed: true });
    expect(replay.slice(1)).toEqual(original);
    expect(kinds(original)[0]).toBe('worker_input_accepted');
    expect(kinds(original).at(-1)).toBe('run_completed');
  });

  test('a system input has no run: the stream holds the ack and ends', async () => {
    const { post, create } = await start();
    await create('w1', 'hold');
    const messages = await sseReader(
      await post('/v1/workers/w1/input', { kind: 'system', content: 'note', stream: true }),
    ).rest();
    expect(messages).toHaveLength(1);
    expect(json(messages[0] as Message)).toMatchObject({ run_id: null, run_status: null });
  });
});

describe('stream lifetime', () => {
  test('server close ends open streams promptly; runtime close ends them after the shutdown events', async () => {
    const { get, create, server, runtime, post } = await start();
    await create('w1', 'hold');
    const byServer = sseReader(await get('/v1/events/stream'));
    await byServer.next();
    const ended = byServer.rest();
    await server.close();
    expect(await ended).toEqual([]);
    const { url: url2, close } = await serveRuntime({ runtime, port: 0, token: TOKEN });
    cleanups.push(close);
    await post('/v1/workers/w1/input', { kind: 'user', content: 'x' }).catch(() => undefined);
    const byRuntime = sseReader(await fetch(`${url2}/v1/events/stream`, { headers: AUTH }));
    await byRuntime.next();
    await runtime.close();
    expect(kinds(await byRuntime.rest())).toEqual(['runtime_stopping']);
  });

  test('no leaks: 10,000 streams opened and dropped (and HEADs) leave no watch and no listener', async () => {
    const hold = createHoldEngine();
    const runtime = await Runtime.open({ engines: [hold], profiles: { hold: { engine: 'hold' } } });
    cleanups.push(() => runtime.close());
    const shutdown = new AbortController();
    const app = createRuntimeApp({ runtime, token: TOKEN, signal: shutdown.signal });
    const before = getEventListeners(shutdown.signal, 'abort').length;
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 500 }, async (_, i) => {
          const response = await app.request(i % 50 === 0 ? '/v1/events/stream?after=0' : '/v1/events/stream', {
            method: i % 100 === 1 ? 'HEAD' : 'GET',
            headers: AUTH,
          });
          const reader = response.body?.getReader();
          if (reader) {
            await reader.read();
            await reader.cancel();
          }
        }),
      );
    }
    await eventually(() =>
      runtime.watchCount === 0 && getEventListeners(shutdown.signal, 'abort').length === before ? true : undefined,
    );
  });
});
