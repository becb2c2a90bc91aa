// The relay's HTTP surface: the chat page, its three API calls and its SSE stream. The browser
// talks only to this app; the Runtime is reached through the RuntimeLink alone.
import { isRuntimeError } from '@worker-runtime/core';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { rateLimiter } from 'hono-rate-limiter';
import { loadPageAssets } from './page-assets.js';
import { relayRunStream } from './relay-stream.js';
import type { RuntimeLink } from './runtime-link.js';
import { type Session, SessionStore, sessionWorker } from './sessions.js';

/** Options of {@link createRelayApp}. */
export interface RelayAppOptions {
  /** The way to the Runtime; it holds the Runtime's URL and token. */
  link: RuntimeLink;
  /** Longest message accepted, in characters (default 4000). */
  maxMessageChars?: number;
  /** Messages one session may send per minute (default 20). */
  messagesPerMinute?: number;
  /** Sessions kept in memory; the least recently used is forgotten beyond this (default 10000). */
  maxSessions?: number;
}

type RelayEnv = { Variables: { session: Session } };

const COOKIE = 'chat_session';

function problem(status: ContentfulStatusCode, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status });
}

/** A Runtime error as the page may see it: no worker ids, no Runtime wording. */
function runtimeProblem(error: unknown): Response {
  const code = isRuntimeError(error) ? error.code : 'internal';
  if (code === 'worker_busy' || code === 'queue_full') {
    return problem(409, 'busy', 'a reply is still being written; wait for it or press Stop');
  }
  console.error('chat-relay: a Runtime call failed:', code);
  return problem(502, 'unavailable', 'the assistant is unavailable right now');
}

/**
 * The relay app. Every response carries a CSP that allows only this origin's own script, style
 * and connections; API responses and the stream are `no-store`.
 */
export function createRelayApp({
  link,
  maxMessageChars = 4000,
  messagesPerMinute = 20,
  maxSessions = 10_000,
}: RelayAppOptions): Hono<RelayEnv> {
  const sessions = new SessionStore(maxSessions);
  const assets = loadPageAssets();
  const app = new Hono<RelayEnv>();

  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        connectSrc: ["'self'"],
        imgSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      xFrameOptions: 'DENY',
    }),
  );
  // Unsafe methods only from this origin's own page (Origin / Sec-Fetch-Site), besides SameSite=Strict.
  app.use(csrf());
  app.use(async (c, next) => {
    let session = sessions.get(getCookie(c, COOKIE));
    if (session === null) {
      session = sessions.create();
      setCookie(c, COOKIE, session.id, {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
        secure: new URL(c.req.url).protocol === 'https:',
      });
    }
    c.set('session', session);
    await next();
  });
  app.use('/api/*', async (c, next) => {
    await next();
    c.res.headers.set('cache-control', 'no-store');
  });

  for (const asset of assets) {
    app.get(asset.path, (c) => c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'no-cache' }));
  }

  app.get('/api/conversation', async (c) => {
    const session = c.get('session');
    try {
      const messages = session.worker === null ? [] : await link.messages(await session.worker);
      return c.json({ messages, active_run_id: session.run?.run_id ?? null });
    } catch (error) {
      return runtimeProblem(error);
    }
  });

  app.post(
    '/api/messages',
    rateLimiter<RelayEnv>({
      windowMs: 60_000,
      limit: messagesPerMinute,
      standardHeaders: 'draft-7',
      keyGenerator: (c) => c.get('session').id,
      handler: (c) => c.json({ error: { code: 'rate_limited', message: 'too many messages; wait a minute' } }, 429),
    }),
    // Characters take up to 3 UTF-8 bytes in a JSON string (4 for a surrogate pair, i.e. 2 chars).
    bodyLimit({
      maxSize: maxMessageChars * 3 + 1024,
      onError: () => problem(413, 'message_too_large', `a message holds at most ${maxMessageChars} characters`),
    }),
    async (c) => {
      if (!c.req.header('content-type')?.startsWith('application/json')) {
        return problem(415, 'unsupported_media_type', 'send JSON');
      }
      const body = (await c.req.json().catch(() => null)) as { content?: unknown } | null;
      const content = typeof body?.content === 'string' ? body.content.trim() : '';
      if (content === '') return problem(400, 'invalid_message', 'write a message first');
      if (content.length > maxMessageChars) {
        return problem(413, 'message_too_large', `a message holds at most ${maxMessageChars} characters`);
      }
      const session = c.get('session');
      try {
        const worker_id = await sessionWorker(session, () => link.createWorker());
        const start = await link.send(worker_id, content);
        session.run = { run_id: start.run_id, after: start.event_id };
        return c.json({ run_id: start.run_id }, 202);
      } catch (error) {
        return runtimeProblem(error);
      }
    },
  );

  app.post('/api/stop', async (c) => {
    const session = c.get('session');
    if (session.worker === null) return c.json({ stopped: false });
    try {
      await link.cancel(await session.worker);
      return c.json({ stopped: true });
    } catch (error) {
      return runtimeProblem(error);
    }
  });

  app.get('/api/stream', (c) => relayRunStream(c, c.get('session'), link));

  app.notFound(() => problem(404, 'not_found', 'no such page'));
  app.onError((error) => {
    // The csrf middleware refuses with a 403 HTTPException.
    if (error instanceof HTTPException && error.status === 403) {
      return problem(403, 'forbidden', 'this request must come from the chat page itself');
    }
    console.error('chat-relay: unexpected error:', error);
    return problem(500, 'internal', 'something went wrong');
  });
  return app;
}
