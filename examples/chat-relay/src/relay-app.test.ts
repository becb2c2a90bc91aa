import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createRuntimeClient, type RuntimeClient } from '@worker-runtime/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RelayServer, startRelay } from './relay-server.js';
import { createRuntimeLink } from './runtime-link.js';
import { type RuntimeProcess, startRuntimeProcess } from './runtime-process.js';

const token = randomBytes(24).toString('base64url');
let runtime: RuntimeProcess;
let relay: RelayServer;
let operator: RuntimeClient;

beforeAll(async () => {
  runtime = await startRuntimeProcess({
    token,
    configFile: fileURLToPath(new URL('../runtime.config.json', import.meta.url)),
    port: 0,
  });
  operator = createRuntimeClient({ baseUrl: runtime.url, token });
  relay = await startRelay({
    link: createRuntimeLink({ baseUrl: runtime.url, token, profile: 'chat' }),
    port: 0,
    maxMessageChars: 50,
    messagesPerMinute: 3,
  });
});

afterAll(async () => {
  await relay?.close();
  await runtime?.stop();
});

/** A browser-like caller: keeps the session cookie, sends the page's Origin on POSTs. */
function browser(): { get(path: string): Promise<Response>; post(path: string, body: unknown): Promise<Response> } {
  let cookie: string | undefined;
  const remember = (response: Response): Response => {
    const set = response.headers.get('set-cookie');
    if (set !== null) cookie = set.split(';')[0];
    return response;
  };
  const headers = (): Record<string, string> => (cookie === undefined ? {} : { cookie });
  return {
    get: async (path) => remember(await fetch(`${relay.url}${path}`, { headers: headers() })),
    post: async (path, body) =>
      remember(
        await fetch(`${relay.url}${path}`, {
          method: 'POST',
          headers: { ...headers(), origin: relay.url, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      ),
  };
}

async function relayWorkers(): Promise<string[]> {
  const { workers } = await operator.listWorkers({ limit: 1000 });
  return workers.map((worker) => worker.worker_id);
}

async function expectNoToken(response: Response): Promise<void> {
  expect([...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')).not.toContain(token);
  expect(await response.text()).not.toContain(token);
}

describe('the chat page', () => {
  it('is served with a strict CSP, its script as a file, and an HttpOnly SameSite=Strict session cookie', async () => {
    const response = await browser().get('/');
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^chat_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const html = await response.text();
    // Every script element names a file: no inline script for the CSP to allow.
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script src="/chat.js" defer>']);
    expect(html).not.toContain(runtime.url);

    const script = await fetch(`${relay.url}/chat.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const source = await script.text();
    expect(source).toContain("new EventSource('/api/stream')");
    expect(source).not.toContain(new URL(runtime.url).port);
  });

  it('answers an unknown path with a JSON 404 and no file from disk', async () => {
    for (const path of ['/nope', '/../runtime.config.json', '/src/relay-app.ts', '/public/chat.js']) {
      const response = await fetch(`${relay.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'no such page' } });
    }
  });
});

describe('sessions and Workers', () => {
  it('creates one Worker per session, on its first message, and keeps worker ids from the page', async () => {
    const before = await relayWorkers();
    const alice = browser();
    await alice.get('/');
    expect(await relayWorkers()).toEqual(before);

    const first = await alice.post('/api/messages', { content: 'hello' });
    expect(first.status).toBe(202);
    const { run_id } = (await first.json()) as { run_id: string };
    const created = (await relayWorkers()).filter((id) => !before.includes(id));
    expect(created).toHaveLength(1);
    const [worker_id] = created as [string];
    expect((await operator.getRun(worker_id, run_id, { wait_ms: 10_000 })).status).toBe('completed');

    const second = await alice.post('/api/messages', { content: 'again' });
    expect(second.status).toBe(202);
    expect((await relayWorkers()).filter((id) => !before.includes(id))).toEqual([worker_id]);

    const bob = browser();
    expect((await bob.post('/api/messages', { content: 'hi' })).status).toBe(202);
    expect((await relayWorkers()).filter((id) => !before.includes(id))).toHaveLength(2);

    const conversation = await alice.get('/api/conversation');
    expect(conversation.headers.get('cache-control')).toBe('no-store');
    const text = await conversation.clone().text();
    expect(text).not.toContain(worker_id);
    const body = (await conversation.json()) as { messages: { role: string; content: string }[] };
    expect(body.messages[0]).toEqual({ role: 'user', content: 'hello', run_id });
    expect(body.messages[1]).toMatchObject({ role: 'assistant', content: 'echo: hello', run_id });
  });

  it('ignores a forged or unknown session cookie and starts a fresh session', async () => {
    const response = await fetch(`${relay.url}/api/conversation`, { headers: { cookie: 'chat_session=forged' } });
    expect(response.headers.get('set-cookie')).toMatch(/^chat_session=[A-Za-z0-9_-]{43};/);
    expect(await response.json()).toEqual({ messages: [], active_run_id: null });
  });
});

describe('the relay’s own checks', () => {
  it('refuses a message over the size cap without reaching the Runtime', async () => {
    const before = await relayWorkers();
    const carol = browser();
    const tooLong = await carol.post('/api/messages', { content: 'x'.repeat(51) });
    expect(tooLong.status).toBe(413);
    expect(((await tooLong.json()) as { error: { code: string } }).error.code).toBe('message_too_large');
    const huge = await carol.post('/api/messages', { content: 'y'.repeat(100_000) });
    expect(huge.status).toBe(413);
    expect(await relayWorkers()).toEqual(before);
    expect((await carol.post('/api/messages', { content: 'x'.repeat(50) })).status).toBe(202);
  });

  it('refuses empty messages and bodies that are not JSON', async () => {
    const dave = browser();
    expect((await dave.post('/api/messages', { content: '   ' })).status).toBe(400);
    expect((await dave.post('/api/messages', { text: 'hi' })).status).toBe(400);
    const form = await fetch(`${relay.url}/api/messages`, {
      method: 'POST',
      headers: { origin: relay.url, 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(form.status).toBe(415);
  });

  it('rate-limits messages per session, not globally', async () => {
    const erin = browser();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await erin.post('/api/messages', { content: `m${i}` })).status);
    // Busy answers (409) count too: a session cannot hammer the Runtime with refused sends.
    expect(statuses.every((status) => status === 202 || status === 409)).toBe(true);
    const limited = await erin.post('/api/messages', { content: 'one more' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('ratelimit')).toMatch(/remaining=0/);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect((await browser().post('/api/messages', { content: 'someone else' })).status).toBe(202);
  });

  it('refuses a cross-origin POST', async () => {
    const response = await fetch(`${relay.url}/api/messages`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'content=hi',
    });
    expect(response.status).toBe(403);
  });

  it('serves the stream as no-store text/event-stream and says idle when no run is watched', async () => {
    const response = await browser().get('/api/stream');
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toBe('event: idle\ndata: {}\n\n');
  });

  it('never sends the Runtime token or its address to the browser', async () => {
    const frank = browser();
    await expectNoToken(await frank.get('/'));
    await expectNoToken(await frank.get('/chat.js'));
    await expectNoToken(await frank.post('/api/messages', { content: 'secret?' }));
    await expectNoToken(await frank.get('/api/conversation'));
    await expectNoToken(await frank.post('/api/stop', {}));
    const stream = await frank.get('/api/stream');
    const text = await stream.text();
    expect(text).not.toContain(token);
    expect(text).not.toContain(runtime.url);
  });
});
