import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EngineRun, TranscriptEntry } from '@worker-runtime/core';
import * as v from 'valibot';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type ChatRequest, requestChat } from './chat-completion.js';
import { createOpenAIChatEngine } from './openai-chat-engine.js';
import { OpenAIChatProfileSchema } from './openai-chat-profile.js';

let server: Server;
let url: URL;
let answer: (req: IncomingMessage, res: ServerResponse) => void;

beforeEach(async () => {
  server = createServer((req, res) => answer(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`);
});

afterEach(() => {
  server.closeAllConnections();
  server.close();
});

function request(overrides: Partial<ChatRequest> = {}): ChatRequest & { deltas: string[] } {
  const deltas: string[] = [];
  return {
    url,
    headers: new Headers({ 'content-type': 'application/json' }),
    body: { model: 'm', messages: [], stream: true },
    signal: new AbortController().signal,
    first_byte_timeout_ms: 120_000,
    request_timeout_ms: 600_000,
    max_output_bytes: 1024 * 1024,
    onDelta: (content) => deltas.push(content),
    onProgress: () => undefined,
    deltas,
    ...overrides,
  };
}

function sse(res: ServerResponse, chunks: unknown[], end = true): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const chunk of chunks) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  if (end) res.end('data: [DONE]\n\n');
}

const delta = (value: unknown, finish_reason: string | null = null) => ({ choices: [{ delta: value, finish_reason }] });

describe('requestChat: streamed replies', () => {
  test('reports each text piece as a delta and assembles text and tool calls streamed in pieces', async () => {
    answer = (_req, res) =>
      sse(res, [
        delta({ role: 'assistant' }),
        delta({ content: 'Hel' }),
        delta({ content: 'lo' }),
        delta({
          tool_calls: [{ index: 0, id: 'c0', type: 'function', function: { name: 'fs__read', arguments: '' } }],
        }),
        delta({ tool_calls: [{ index: 1, id: 'c1', type: 'function', function: { name: 'fs__list' } }] }),
        delta({ tool_calls: [{ index: 0, function: { arguments: '{"path":' } }] }),
        delta({ tool_calls: [{ index: 1, function: { arguments: '{}' } }] }),
        delta({ tool_calls: [{ index: 0, function: { arguments: '"a.txt"}' } }] }),
        delta({}, 'tool_calls'),
      ]);
    const chat = request();
    expect(await requestChat(fetch, chat)).toEqual({
      content: 'Hello',
      finish_reason: 'tool_calls',
      tool_calls: [
        { id: 'c0', name: 'fs__read', arguments: '{"path":"a.txt"}' },
        { id: 'c1', name: 'fs__list', arguments: '{}' },
      ],
    });
    expect(chat.deltas).toEqual(['Hel', 'lo']);
  });

  test('a non-streamed completion with tool calls and null content', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const call = { id: 'x', type: 'function', function: { name: 't__echo', arguments: '{"text":"a"}' } };
      res.end(
        JSON.stringify({ choices: [{ message: { content: null, tool_calls: [call] }, finish_reason: 'tool_calls' }] }),
      );
    };
    expect(await requestChat(fetch, request())).toEqual({
      content: '',
      finish_reason: 'tool_calls',
      tool_calls: [{ id: 'x', name: 't__echo', arguments: '{"text":"a"}' }],
    });
  });
});

describe('requestChat: timeouts and errors', () => {
  test('first_byte_timeout_ms: no response headers in time fails the request and closes it', async () => {
    let closed = false;
    answer = (req) => req.socket.on('close', () => (closed = true));
    await expect(requestChat(fetch, request({ first_byte_timeout_ms: 200 }))).rejects.toThrow(
      'the provider did not answer within first_byte_timeout_ms (200 ms)',
    );
    await expect.poll(() => closed).toBe(true);
  });

  test('request_timeout_ms: a reply that stalls mid-stream fails with the limit named', async () => {
    answer = (_req, res) => sse(res, [delta({ content: 'thinking' })], false);
    const chat = request({ request_timeout_ms: 300 });
    await expect(requestChat(fetch, chat)).rejects.toThrow(
      "the provider's reply did not complete within request_timeout_ms (300 ms)",
    );
    expect(chat.deltas).toEqual(['thinking']);
  });

  test('the run being aborted wins over every other failure', async () => {
    answer = (_req, res) => sse(res, [delta({ content: 'a' })], false);
    const run = new AbortController();
    const pending = requestChat(
      fetch,
      request({ signal: run.signal, onDelta: () => run.abort(new Error('cancelled')) }),
    );
    await expect(pending).rejects.toThrow('cancelled');
  });

  test.each([
    [
      429,
      { message: 'You exceeded your current quota.' },
      'HTTP 429 Too Many Requests: You exceeded your current quota.',
    ],
    [400, { error: { code: 'bad' }, message: 'messages: too long' }, 'HTTP 400 Bad Request: messages: too long'],
    [502, { detail: 'upstream down' }, 'HTTP 502 Bad Gateway: upstream down'],
  ])('HTTP %i reports the provider message field', async (status, body, message) => {
    answer = (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    await expect(requestChat(fetch, request())).rejects.toThrow(`the provider answered ${message}`);
  });
});

describe('openai_chat engine: output deltas', () => {
  test('each token reaches run.delta as it arrives and the entry is appended once, whole', async () => {
    answer = (_req, res) =>
      sse(res, [
        delta({ content: 'One ' }),
        delta({ content: 'two ' }),
        delta({ content: 'three.' }),
        delta({}, 'stop'),
      ]);
    const deltas: string[] = [];
    const appended: unknown[] = [];
    const user: TranscriptEntry = {
      sequence: 1,
      worker_ref: { runtime_id: 'r', worker_id: 'w' },
      role: 'user',
      content: 'Count',
      run_id: 'run-1',
      event_id: 1,
      created_at: new Date().toISOString(),
    };
    // The engine's side of SPEC §5/§12, as core drives it.
    const run: EngineRun = {
      worker: {
        ref: user.worker_ref,
        // Runs get their profile as Runtime.open parsed it, defaults applied.
        profile: v.parse(OpenAIChatProfileSchema, {
          engine: 'openai_chat',
          base_url: url.href.replace('/chat/completions', ''),
          model: 'm',
        }),
        profile_name: 'chat',
        intent: { kind: 'assistant' },
        display_name: null,
        display_ref: 'w@r',
      },
      run_id: 'run-1',
      input: 'Count',
      history: async () => [user],
      signal: new AbortController().signal,
      append: async (entry) => {
        appended.push({ ...entry, deltas_before: deltas.length });
      },
      progress: () => undefined,
      delta: (content) => deltas.push(content),
    };
    // The reply is the run's last entry: handed to core as the run's final entry, committed with its end.
    const result = await createOpenAIChatEngine().run(run);
    if (result?.final) appended.push({ ...result.final, deltas_before: deltas.length });
    expect(deltas).toEqual(['One ', 'two ', 'three.']);
    expect(appended).toEqual([{ role: 'assistant', content: 'One two three.', deltas_before: 3 }]);
  });
});
