import { request as httpRequest } from 'node:http';
import { describe, expect, test } from 'vitest';
import { placeDeltas, sseReader } from './sse-test-helpers.js';
import { json, kinds, type Message, startStreaming as start, WORDS } from './stream-test-support.js';
import { AUTH, bodyOf, eventually } from './test-helpers.js';

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
