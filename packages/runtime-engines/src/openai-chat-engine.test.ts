import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Runtime } from '@worker-runtime/core';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createBuiltinEngines } from './builtin-engines.js';
import { entries, finishedRun, startRun, waitFor } from './test-helpers.js';

const API_KEY = 'sk-test-0123456789abcdef';

interface SeenRequest {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: { model?: string; stream?: boolean; temperature?: number; messages?: { role: string; content: string }[] };
}

/** A fake OpenAI-compatible server on 127.0.0.1: each test sets `reply` to answer a request. */
let server: Server;
let baseUrl: string;
let reply: (res: ServerResponse, request: SeenRequest) => void;
let requests: SeenRequest[];
/** Requests whose connection closed before the server finished answering. */
let abandoned: number;
let runtime: Runtime | undefined;

beforeEach(async () => {
  requests = [];
  abandoned = 0;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString()),
      };
      requests.push(seen);
      res.on('close', () => {
        if (!res.writableFinished) abandoned += 1;
      });
      reply(res, seen);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  server.closeAllConnections();
  server.close();
});

async function open(
  profile: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = { OPENAI_TEST_KEY: API_KEY },
): Promise<Runtime> {
  runtime = await Runtime.open({
    engines: createBuiltinEngines({ env }),
    profiles: {
      chat: {
        engine: 'openai_chat',
        base_url: baseUrl,
        model: 'test-model',
        api_key_env: 'OPENAI_TEST_KEY',
        ...profile,
      },
    },
    limits: { cancel_grace_ms: 20_000 },
  });
  return runtime;
}

function chunk(content: string | null, finish_reason: string | null = null): unknown {
  const delta = content === null ? { role: 'assistant' } : { content };
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    model: 'test-model',
    choices: [{ index: 0, delta, finish_reason }],
  };
}

function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

function event(data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

describe('openai_chat engine: replies', () => {
  test('assembles a streamed reply into one assistant entry and sends model, history, prompt and headers', async () => {
    const rt = await open({
      system_prompt: 'Be brief.',
      temperature: 0.2,
      headers: { 'X-Team': 'blue' },
      max_history_entries: 3,
    });
    reply = (res) => {
      startStream(res);
      // Keep-alive comments, other fields, CRLF line ends and a line split across writes must all parse.
      res.write(': keep-alive\n\n');
      res.write(`event: message\r\n${event(chunk(null)).replace('\n\n', '\r\n\r\n')}`);
      const line = event(chunk('Hel'));
      res.write(line.slice(0, 20));
      setTimeout(() => {
        res.write(line.slice(20));
        res.write(event(chunk('lo ✓')));
        res.write(event(chunk(null, 'stop')));
        res.end(event('[DONE]'));
      }, 10);
    };
    const worker = await rt.createWorker({ intent: { kind: 'assistant' }, profile: { kind: 'named', value: 'chat' } });
    await rt.sendInput(worker.worker_id, { kind: 'system', content: 'Remember: blue.' });
    const first = await rt.sendInput(worker.worker_id, { kind: 'user', content: 'Hi' });
    expect((await finishedRun(rt, worker.worker_id, first.run_id as string)).status).toBe('completed');
    const second = await rt.sendInput(worker.worker_id, { kind: 'user', content: 'Again' });
    expect((await finishedRun(rt, worker.worker_id, second.run_id as string)).status).toBe('completed');

    expect((await entries(rt, worker.worker_id)).map((e) => [e.role, e.content])).toEqual([
      ['system', 'Remember: blue.'],
      ['user', 'Hi'],
      ['assistant', 'Hello ✓'],
      ['user', 'Again'],
      ['assistant', 'Hello ✓'],
    ]);
    const [a, b] = requests;
    expect(a?.method).toBe('POST');
    expect(a?.url).toBe('/v1/chat/completions');
    expect(a?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(a?.headers['x-team']).toBe('blue');
    expect(a?.headers['content-type']).toBe('application/json');
    expect(a?.body).toMatchObject({ model: 'test-model', stream: true, temperature: 0.2 });
    expect(a?.body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'system', content: 'Remember: blue.' },
      { role: 'user', content: 'Hi' },
    ]);
    // max_history_entries: 3 keeps the last three entries; the system prompt always leads.
    expect(b?.body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello ✓' },
      { role: 'user', content: 'Again' },
    ]);
  });

  test('works without an API key or temperature and accepts a non-streamed JSON completion', async () => {
    const rt = await open({ api_key_env: undefined }, {});
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          choices: [{ index: 0, message: { role: 'assistant', content: 'whole reply' }, finish_reason: 'stop' }],
        }),
      );
    };
    const { worker_id, run_id } = await startRun(rt, 'chat', 'Hi');
    expect((await finishedRun(rt, worker_id, run_id)).status).toBe('completed');
    expect((await entries(rt, worker_id))[1]?.content).toBe('whole reply');
    expect(requests[0]?.headers.authorization).toBeUndefined();
    expect(requests[0]?.body).not.toHaveProperty('temperature');
  });

  test('a stream that ends after its final chunk without [DONE] still completes', async () => {
    const rt = await open();
    reply = (res) => {
      startStream(res);
      res.write(event(chunk('short')));
      res.end(event(chunk(null, 'stop')));
    };
    const { worker_id, run_id } = await startRun(rt, 'chat', 'Hi');
    expect((await finishedRun(rt, worker_id, run_id)).status).toBe('completed');
    expect((await entries(rt, worker_id))[1]?.content).toBe('short');
  });
});

describe('openai_chat engine: provider errors', () => {
  test.each([
    [
      401,
      { error: { message: `Incorrect API key provided: ${API_KEY}.`, type: 'invalid_request_error' } },
      'the provider answered HTTP 401 Unauthorized: Incorrect API key provided: [redacted].',
    ],
    [
      429,
      { error: { message: 'Rate limit reached for test-model.', type: 'requests' } },
      'the provider answered HTTP 429 Too Many Requests: Rate limit reached for test-model.',
    ],
    [500, 'upstream exploded', 'the provider answered HTTP 500 Internal Server Error: upstream exploded'],
    [503, '<html><body>Service Unavailable</body></html>', 'the provider answered HTTP 503 Service Unavailable'],
    [
      404,
      { error: "model 'test-model' not found" },
      "the provider answered HTTP 404 Not Found: model 'test-model' not found",
    ],
  ])('HTTP %i fails the run with the provider message and never the key', async (status, body, message) => {
    const rt = await open();
    reply = (res) => {
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const { worker_id, run_id } = await startRun(rt, 'chat', 'Hi');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('failed');
    expect(run.error).toEqual({ code: 'engine_error', message });
    expect(await entries(rt, worker_id)).toHaveLength(1);
  });

  test.each([
    [
      'a malformed event',
      (res: ServerResponse) => {
        startStream(res);
        res.write(event(chunk('partial')));
        res.end('data: {"choices": [\n\n');
      },
      'the provider sent a malformed stream: an event is not JSON',
    ],
    [
      'a chunk without choices',
      (res: ServerResponse) => {
        startStream(res);
        res.end(event({ id: 'x', object: 'chat.completion.chunk' }));
      },
      'the provider sent a malformed stream: a chunk has no choices',
    ],
    [
      'an error event mid-stream',
      (res: ServerResponse) => {
        startStream(res);
        res.write(event(chunk('partial')));
        res.end(event({ error: { message: 'The server is overloaded.' } }));
      },
      'the provider reported an error mid-stream: The server is overloaded.',
    ],
    [
      'a stream that stops early',
      (res: ServerResponse) => {
        startStream(res);
        res.end(event(chunk('partial')));
      },
      'the provider ended the stream before the reply was complete',
    ],
    [
      'a connection dropped mid-stream',
      (res: ServerResponse) => {
        startStream(res);
        res.write(event(chunk('partial')), () => res.socket?.destroy());
      },
      'the connection to the provider was lost mid-stream',
    ],
    [
      'an empty reply',
      (res: ServerResponse) => {
        startStream(res);
        res.write(event(chunk(null, 'length')));
        res.end(event('[DONE]'));
      },
      'the provider returned an empty reply (finish_reason: length)',
    ],
  ])('%s fails the run and leaves no partial entry', async (_name, answer, message) => {
    const rt = await open();
    reply = answer;
    const { worker_id, run_id } = await startRun(rt, 'chat', 'Hi');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('failed');
    expect(run.error?.message).toBe(message);
    expect((await entries(rt, worker_id)).map((e) => e.role)).toEqual(['user']);
  });

  test('a redirect is not followed', async () => {
    const rt = await open();
    reply = (res) => {
      res.writeHead(307, { location: 'http://127.0.0.1:9/v1/chat/completions' });
      res.end();
    };
    const { worker_id, run_id } = await startRun(rt, 'chat', 'Hi');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.error?.message).toBe(`could not reach the provider at ${new URL(baseUrl).host}: unexpected redirect`);
    expect(requests).toHaveLength(1);
  });

  test('a web page instead of an event stream fails the run with a hint', async () => {
    const rt = await open();
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html>welcome</html>');
    };
    const { worker_id, run_id } = await startRun(rt, 'chat', 'Hi');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.error?.message).toBe('the provider answered text/html, not an event stream (is base_url the API root?)');
  });

  test('an unreachable provider fails the run naming the host', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    closed.close();
    await once(closed, 'close');
    baseUrl = `http://127.0.0.1:${port}/v1`;
    const rt = await open();
    const { worker_id, run_id } = await startRun(rt, 'chat', 'Hi');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.error?.message).toBe(`could not reach the provider at 127.0.0.1:${port}: ECONNREFUSED`);
  });

  test('a missing API key variable fails the run naming the variable, without calling the provider', async () => {
    const rt = await open({}, {});
    const { worker_id, run_id } = await startRun(rt, 'chat', 'Hi');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.error?.message).toBe('the environment variable named by api_key_env (OPENAI_TEST_KEY) is not set');
    expect(requests).toEqual([]);
  });

  test('invalid profile options are refused when the Runtime opens, with invalid_request naming the field', async () => {
    const refused = open({ base_url: 'not a url', model: '' });
    await expect(refused).rejects.toMatchObject({ code: 'invalid_request', details: { profile: 'chat' } });
    await expect(refused).rejects.toThrow(/^invalid options in profile "chat": base_url: must be an absolute URL/);
    expect(requests).toEqual([]);
  });
});

describe('openai_chat engine: cancel and timeout', () => {
  /** Starts a stream with one chunk, then stalls without finishing. */
  function stall(res: ServerResponse): void {
    startStream(res);
    res.write(event(chunk('thinking')));
  }

  test('cancel mid-stream aborts the request and leaves no assistant entry', async () => {
    const rt = await open();
    reply = stall;
    const { worker_id, run_id } = await startRun(rt, 'chat', 'Hi');
    await waitFor('the request to reach the server', () => requests.length === 1);
    await rt.cancelWorker(worker_id, { reason: 'user cancelled' });
    expect((await rt.getRun(worker_id, run_id)).status).toBe('cancelled');
    await waitFor('the server to see the request closed', () => abandoned === 1);
    expect((await entries(rt, worker_id)).map((e) => e.role)).toEqual(['user']);
  });

  test('idle_timeout_ms measures silence: a reply that keeps streaming longer than it completes', async () => {
    const rt = await open({ idle_timeout_ms: 300 });
    reply = (res) => {
      startStream(res);
      let sent = 0;
      // Eight chunks 100 ms apart: the whole reply takes far longer than the idle timeout.
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        if (sent < 8) {
          res.write(event(chunk(`${sent}`)));
          sent += 1;
          return;
        }
        clearInterval(timer);
        res.end(`${event(chunk('', 'stop'))}${event('[DONE]')}`);
      }, 100);
    };
    const { worker_id, run_id } = await startRun(rt, 'chat', 'Count');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('completed');
    expect((await entries(rt, worker_id)).map((e) => e.content)).toEqual(['Count', '01234567']);
  });

  test('idle_timeout_ms ends a stalled stream as timed_out and closes the request', async () => {
    const rt = await open({ idle_timeout_ms: 300 });
    reply = stall;
    const { worker_id, run_id } = await startRun(rt, 'chat', 'Hi');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('timed_out');
    expect(run.error?.code).toBe('idle_timeout');
    await waitFor('the server to see the request closed', () => abandoned === 1);
    expect((await entries(rt, worker_id)).map((e) => e.role)).toEqual(['user']);
  });
});
