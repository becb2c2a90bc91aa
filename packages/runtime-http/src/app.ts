import { type Runtime, RuntimeError } from '@worker-runtime/core';
import { type Context, Hono } from 'hono';
import { basePath } from 'hono/route';
import { webBody } from './body-source.js';
import { createDispatcher, type Dispatcher, type DispatchRequest } from './dispatch.js';
import { errorOutcome } from './http-errors.js';
import type { RuntimeHttpLogger } from './log.js';
import { toResponse } from './reply.js';
import { resolveRequestId } from './request-id.js';
import { RUNTIME_ROUTES } from './routes/index.js';
import { createGate } from './security.js';

/** Options of {@link createRuntimeApp}. */
export interface RuntimeAppOptions {
  /** The Runtime to expose; the app only translates HTTP to its methods. */
  runtime: Runtime;
  /** Bearer token required on every `/v1` route. A backend-to-Runtime credential: never hand it to a browser. */
  token?: string | undefined;
  /** Extra `Host` names accepted when `loopbackOnly` (e.g. a container name the backend uses). */
  allowedHosts?: readonly string[] | undefined;
  /** Largest request body in bytes (default: `runtime.limits.max_body_bytes`). */
  maxBodyBytes?: number | undefined;
  /**
   * Whether the server is bound to loopback, so `Host` must be a loopback name or in `allowedHosts`
   * (DNS-rebinding defence). Default true; `serveRuntime` sets it from the address it binds.
   */
  loopbackOnly?: boolean | undefined;
  /** Receives one debug line per request and an error line per `internal` failure. */
  log?: RuntimeHttpLogger | undefined;
  /** When aborted (server shutdown), long-polls answer at once with what they have and streams end. */
  signal?: AbortSignal | undefined;
  /** Silence (ms) before an event stream sends a `: keep-alive` comment (default 15000). */
  streamKeepAliveMs?: number | undefined;
}

function validateOptions(token: string | undefined, maxBodyBytes: number): void {
  if (token !== undefined && !/^[\x21-\x7e]{1,4096}$/.test(token)) {
    throw new RuntimeError('invalid_request', 'the token must be 1-4096 visible ASCII characters without spaces');
  }
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new RuntimeError('invalid_request', 'maxBodyBytes must be a positive integer');
  }
}

/** The dispatcher for a set of app options: what both `createRuntimeApp` and `serveRuntime` serve. */
export function createRuntimeDispatcher({
  runtime,
  token,
  allowedHosts = [],
  maxBodyBytes = runtime.limits.max_body_bytes,
  loopbackOnly = true,
  log,
  signal,
  streamKeepAliveMs,
}: RuntimeAppOptions): Dispatcher {
  validateOptions(token, maxBodyBytes);
  return createDispatcher({
    runtime,
    routes: RUNTIME_ROUTES,
    gate: createGate({ token, loopbackOnly, allowedHosts }),
    maxBodyBytes,
    log,
    signal,
    streamKeepAliveMs,
  });
}

/** The path of an absolute URL as sent (Hono's `c.req.path` is already percent-decoded once). */
function rawPathname(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start === -1) return '/';
  const query = url.indexOf('?', start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}

/** The request as the dispatcher sees it, with the path relative to where the app is mounted. */
function dispatchRequest(c: Context): DispatchRequest {
  const mount = basePath(c);
  const raw = rawPathname(c.req.url);
  const path = mount === '/' ? raw : raw.slice(mount.length) || '/';
  return {
    method: c.req.method,
    path,
    url: c.req.url,
    header: (name) => c.req.header(name) ?? (name === 'host' ? new URL(c.req.url).host : undefined),
    body: c.req.raw.body ? webBody(c.req.raw.body) : null,
  };
}

/**
 * Builds the Hono app that serves a Runtime over REST (SPEC §6–§8) for a trusted backend: call it
 * with `app.fetch`/`app.request`, or mount it in your own Hono app (`parent.route('/runtime', app)`).
 * Browsers must never call it: requests carrying `Origin` are refused, no CORS headers are sent,
 * and the token is a backend credential that must never reach a browser.
 * @throws RuntimeError `invalid_request` for a malformed token or body limit
 * @example
 * const runtime = await Runtime.open();
 * const app = createRuntimeApp({ runtime, token: process.env.WORKER_RUNTIME_TOKEN });
 * const res = await app.request('/v1/runtime', { headers: { authorization: `Bearer ${token}` } });
 */
export function createRuntimeApp(options: RuntimeAppOptions): Hono {
  return honoApp(createRuntimeDispatcher(options));
}

/**
 * The Hono transport over a dispatcher: one catch-all handler, so the route table's own matcher
 * routes every request (Hono answers HEAD through the GET path and drops the body).
 */
export function honoApp(dispatcher: Dispatcher): Hono {
  const app = new Hono();
  app.all('*', async function handleRuntimeRequest(c) {
    return toResponse(await dispatcher.handle(dispatchRequest(c)));
  });
  // The dispatcher answers every failure itself; this only guards against a fault in Hono.
  app.onError(function unexpected(error) {
    return toResponse(errorOutcome(error, resolveRequestId(undefined)).reply);
  });
  return app;
}
