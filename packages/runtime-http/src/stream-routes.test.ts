import { getEventListeners } from 'node:events';
import { request as httpRequest } from 'node:http';
import { type EngineRun, Runtime, type RuntimeOptions, type WorkerEngine } from '@worker-runtime/core';
import { afterEach, describe, expect, test } from 'vitest';
import { createRuntimeApp } from './app.js';
import { serveRuntime } from './server.js';
import { placeDeltas, sseReader } from './sse-test-helpers.js';
import { AUTH, bodyOf, createHoldEngine, eventually, JSON_HEADERS, TOKEN } from './test-helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Streams `count` deltas of `size` characters as fast as it can, then appends them whole. */
const burstEngine: WorkerEngine = {
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

async function start(options: RuntimeOptions = {}, serve: { streamKeepAliveMs?: number } = {}) {
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

type Message = { event: string | undefined; id: string | undefined; data: string };
const kinds = (messages: Message[]) => messages.map((m) => m.event);
const json = (m: Message | null) => JSON.parse((m as Message).data);
const WORDS = 'one two three four five six seven eight nine ten eleven twelve';

describe('GET /v1/events/stream', () => {
  test('retry first, replay from after=0, then live; events carry id and kind, deltas no id', async () => {
    const { get, post, create } = await start();
    await create('w1', 'stream');
    const response = await get('/v1/events/stream?after=0');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const reader = sseReader(response);
    expect(await reader.next()).toEqual({ kind: 'retry', ms: 1000 });
    const first = await reader.message();
    expect(first).toMatchObject({ event: 'runtime_started', id: '1' });
    expect(json(first)).toMatchObject({ id: 1, kind: 'runtime_started' });
    expect(await reader.message()).toMatchObject({ event: 'worker_created', id: '2' });
    expect(await reader.message()).toMatchObject({ event: 'diagnostic_recorded', id: '3' });
    await post('/v1/workers/w1/input', { kind: 'user', content: 'a b c' });
    const live: Message[] = [];
    for (let m = await reader.message(); m !== null; m = await reader.message()) {
      live.push(m);
      if (m.event === 'run_completed') break;
    }
    await reader.cancel();
    const deltas = live.filter((m) => m.event === 'output_delta');
    expect(deltas.every((m) => m.id === undefined)).toBe(true);
    expect(deltas.map((m) => json(m).content).join('')).toBe('a b c');
    expect(json(deltas[0] as Message)).toEqual({
      worker_ref: expect.objectContaining({ worker_id: 'w1' }),
      run_id: expect.any(String),
      entry: 0,
      offset: 0,
      content: 'a ',
    });
    expect(kinds(live.filter((m) => m.id !== undefined))).toEqual([
      'worker_input_accepted',
      'run_started',
      'transcript_appended',
      'transcript_appended',
      'run_completed',
    ]);
  });

  test('with no cursor it starts at the next new event; Last-Event-ID wins over after; worker_id filters', async () => {
    const { get, create } = await start();
    await create('w1', 'hold');
    const tail = sseReader(await get('/v1/events/stream'));
    const resumed = sseReader(await get('/v1/events/stream?after=0', { 'last-event-id': '1' }));
    const filtered = sseReader(await get('/v1/events/stream?after=0&worker_id=w2'));
    await create('w2', 'hold');
    // Each creation is worker_created + diagnostic_recorded (no config bundle): w1 is 2-3, w2 4-5.
    expect(await tail.message()).toMatchObject({ event: 'worker_created', id: '4' });
    expect(await resumed.message()).toMatchObject({ event: 'worker_created', id: '2' });
    expect(await resumed.message()).toMatchObject({ event: 'diagnostic_recorded', id: '3' });
    expect(await resumed.message()).toMatchObject({ event: 'worker_created', id: '4' });
    const own = await filtered.message();
    expect(own).toMatchObject({ event: 'worker_created', id: '4' });
    expect(json(own).worker_ref.worker_id).toBe('w2');
    for (const reader of [tail, resumed, filtered]) await reader.cancel();
  });

  test('a keep-alive comment while nothing happens', async () => {
    const { get } = await start({}, { streamKeepAliveMs: 50 });
    const reader = sseReader(await get('/v1/events/stream'));
    expect(await reader.next()).toEqual({ kind: 'retry', ms: 1000 });
    expect(await reader.next()).toEqual({ kind: 'comment', text: 'keep-alive' });
    expect(await reader.next()).toEqual({ kind: 'comment', text: 'keep-alive' });
    await reader.cancel();
  });

  test('errors before the stream are JSON: expired cursor 410, bad cursor 400, too many streams 503', async () => {
    const { get, create, runtime } = await start({ limits: { max_retained_events: 2, max_streams: 1 } });
    await create('w1', 'hold');
    await create('w2', 'hold');
    const expired = await get('/v1/events/stream?after=1');
    expect(expired.status).toBe(410);
    expect(expired.headers.get('content-type')).toContain('application/json');
    const last = (await runtime.readEvents({ after: 0, limit: 10, wait_ms: 0 }).catch(() => null))?.next_after;
    expect((await bodyOf(expired)).error).toMatchObject({ code: 'cursor_expired', details: { oldest_available: 4 } });
    const ahead = await get('/v1/events/stream', { 'last-event-id': '99' });
    expect(ahead.status).toBe(400);
    expect((await bodyOf(ahead)).error.details).toEqual({ last_event_id: last ?? 5 });
    const garbage = await get('/v1/events/stream', { 'last-event-id': 'abc' });
    expect((await bodyOf(garbage)).error).toMatchObject({ code: 'invalid_request' });
    expect((await get('/v1/events/stream?run_id=r1')).status).toBe(400);
    const open = sseReader(await get('/v1/events/stream'));
    await open.next();
    const full = await get('/v1/events/stream');
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBeTruthy();
    expect((await bodyOf(full)).error.code).toBe('too_many_streams');
    await open.cancel();
    await eventually(() => (runtime.watchCount === 0 ? true : undefined));
  });

  test('security is unchanged: token, Origin and Host before anything is written', async () => {
    const { url } = await start();
    const noToken = await fetch(`${url}/v1/events/stream`);
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('content-type')).toContain('application/json');
    const browser = await fetch(`${url}/v1/events/stream`, { headers: { ...AUTH, origin: 'https://evil.example' } });
    expect(browser.status).toBe(403);
    expect((await bodyOf(browser)).error.code).toBe('browser_access_denied');
    expect(browser.headers.get('access-control-allow-origin')).toBeNull();
    const host = await new Promise<number>((resolve, reject) => {
      const { port } = new URL(url);
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/v1/events/stream', headers: { ...AUTH, host: 'evil.example' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(host).toBe(403);
  });

  test('two readers see the same sequence', async () => {
    const { get, post, create } = await start();
    await create('w1', 'stream');
    const readers = [sseReader(await get('/v1/events/stream')), sseReader(await get('/v1/events/stream'))];
    await post('/v1/workers/w1/input', { kind: 'user', content: WORDS });
    const seen = await Promise.all(
      readers.map(async (reader) => {
        const all: Message[] = [];
        for (let m = await reader.message(); m !== null; m = await reader.message()) {
          all.push(m);
          if (m.event === 'run_completed') break;
        }
        await reader.cancel();
        return all;
      }),
    );
    expect(seen[0]?.length).toBeGreaterThan(12);
    expect(seen[1]).toEqual(seen[0]);
  });

  test('a slow reader is cut off while a fast one is not, and neither slows the run', async () => {
    const { runtime, url, get, post, create } = await start({ limits: { max_stream_buffer_bytes: 256 * 1024 } });
    await create('w1', 'burst');
    const { port } = new URL(url);
    // The slow reader stops reading after the first bytes; its socket buffers fill, then its watch's buffer.
    let resumeSlow: () => void = () => undefined;
    const slow = new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/events/stream', headers: AUTH }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.once('data', (chunk: string) => {
          text += chunk;
          res.pause();
          resumeSlow = () => {
            res.on('data', (more: string) => {
              text += more;
            });
            res.resume();
          };
        });
        res.on('end', () => resolve(text));
        res.on('close', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    await eventually(() => (runtime.watchCount === 1 ? true : undefined));
    const fast = sseReader(await get('/v1/events/stream'));
    const ack = await bodyOf(await post('/v1/workers/w1/input', { kind: 'user', content: '40000' }));
    let text = '';
    for (let m = await fast.message(); m !== null; m = await fast.message()) {
      if (m.event === 'output_delta') text += json(m).content;
      if (m.event === 'run_completed') break;
    }
    await fast.cancel();
    expect(text.length).toBe(4_000_000);
    // The slow reader's watch overflowed and was dropped; reading again, its stream ends early.
    await eventually(() => (runtime.watchCount === 0 ? true : undefined));
    resumeSlow();
    const slowText = await slow;
    expect(slowText.startsWith('retry: 1000')).toBe(true);
    expect(slowText).not.toContain('run_completed');
    expect((await runtime.getRun('w1', ack.ack.run_id)).status).toBe('completed');
  });
});

describe('GET /v1/workers/{worker_id}/runs/{run_id}/stream', () => {
  test('a finished run replays from its start and ends after its terminal event', async () => {
    const { get, post, create } = await start();
    await create('w1', 'stream');
    const { ack } = await bodyOf(await post('/v1/workers/w1/input', { kind: 'user', content: 'hi there' }));
    await get(`/v1/workers/w1/runs/${ack.run_id}?wait_ms=5000`);
    const messages = await sseReader(await get(`/v1/workers/w1/runs/${ack.run_id}/stream`)).rest();
    expect(kinds(messages)).toEqual([
      'worker_input_accepted',
      'run_started',
      'transcript_appended',
      'transcript_appended',
      'run_completed',
    ]);
    expect(messages.every((m) => json(m).run_id === ack.run_id)).toBe(true);
    const after = await sseReader(
      await get(`/v1/workers/w1/runs/${ack.run_id}/stream`, { 'last-event-id': messages[2]?.id as string }),
    ).rest();
    expect(kinds(after)).toEqual(['transcript_appended', 'run_completed']);
    expect((await get('/v1/workers/w1/runs/nope/stream')).status).toBe(404);
    expect((await get('/v1/workers/nobody/runs/r1/stream')).status).toBe(404);
  });

  test('resume mid-reply with Last-Event-ID: the text placed by offset equals the final entry exactly', async () => {
    const { get, post, create, runtime } = await start();
    await create('w1', 'stream');
    const { ack } = await bodyOf(await post('/v1/workers/w1/input', { kind: 'user', content: WORDS }));
    const path = `/v1/workers/w1/runs/${ack.run_id}/stream`;
    const first = sseReader(await get(path));
    const deltas: Array<{ entry: number; offset: number; content: string }> = [];
    let lastId = '';
    while (deltas.length < 4) {
      const m = (await first.message()) as Message;
      if (m.id !== undefined) lastId = m.id;
      if (m.event === 'output_delta') deltas.push(json(m));
    }
    await first.cancel();
    const rest = await sseReader(await get(path, { 'last-event-id': lastId })).rest();
    const resumed = rest.filter((m) => m.event === 'output_delta').map(json);
    expect(resumed[0]).toMatchObject({ offset: 0 });
    expect(resumed[0].content.length).toBeGreaterThanOrEqual(deltas.map((d) => d.content).join('').length);
    deltas.push(...resumed);
    expect(rest.at(-1)?.event).toBe('run_completed');
    const transcript = await runtime.transcript('w1', { tail: 1 });
    expect(transcript.items[0]?.content).toBe(WORDS);
    expect(placeDeltas(deltas)).toEqual([WORDS]);
  });

  test('cancel mid-stream ends the stream with run_cancelled; dropping a stream cancels nothing', async () => {
    const { get, post, create, hold, runtime } = await start();
    await create('w1', 'hold');
    const { ack } = await bodyOf(await post('/v1/workers/w1/input', { kind: 'user', content: 'x' }));
    const path = `/v1/workers/w1/runs/${ack.run_id}/stream`;
    const dropped = sseReader(await get(path));
    await dropped.message();
    await dropped.cancel();
    await eventually(() => (runtime.watchCount === 0 ? true : undefined));
    expect((await runtime.getRun('w1', ack.run_id)).status).toBe('running');
    expect(hold.waiting).toBe(1);
    const reader = sseReader(await get(path));
    await reader.message();
    await post('/v1/workers/w1/cancel', {});
    const rest = await reader.rest();
    expect(rest.at(-1)?.event).toBe('run_cancelled');
  });
});

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
