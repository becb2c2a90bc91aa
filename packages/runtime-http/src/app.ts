import type { IncomingMessage } from 'node:http';
import { type Runtime, RuntimeError } from '@worker-runtime/core';
import { type Context, Hono } from 'hono';
import { createDispatcher, type Dispatcher, type DispatchRequest } from './dispatch.js';
import { errorOutcome } from './http-errors.js';
import type { RuntimeHttpLogger } from './log.js';
import { createOpenApiRoute } from './openapi.js';
import { resolveRequestId } from './request-id.js';
import { toResponse } from './respond.js';
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
  /** When aborted (server shutdown), long-polls answer at once with what they have. */
  signal?: AbortSignal | undefined;
}

type HeaderReader = (name: string) => string | undefined;

/** Reads headers straight from Node's IncomingMessage when served by @hono/node-server (no `Headers` copy). */
function headerReader(c: Context): HeaderReader {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming) return nodeHeaderReader(incoming);
  return (name) => c.req.header(name) ?? (name === 'host' ? new URL(c.req.url).host : undefined);
}

/** A header reader over Node's already-parsed headers. */
export function nodeHeaderReader(incoming: IncomingMessage): HeaderReader {
  const headers = incoming.headers;
  return (name) => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

function dispatchRequest(c: Context): DispatchRequest {
  return {
    method: c.req.method,
    path: c.req.path,
    url: c.req.url,
    header: headerReader(c),
    get body() {
      return c.req.raw.body;
    },
  };
}

function validateOptions(token: string | undefined, maxBodyBytes: number): void {
  if (token !== undefined && !/^[\x21-\x7e]{1,4096}$/.test(token)) {
    throw new RuntimeError('invalid_request', 'the token must be 1-4096 visible ASCII characters without spaces');
  }
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new RuntimeError('invalid_request', 'maxBodyBytes must be a positive integer');
  }
}

/** The dispatcher for a set of app options (shared by the Hono app and the server's GET fast path). */
export function createRuntimeDispatcher({
  runtime,
  token,
  allowedHosts = [],
  maxBodyBytes = runtime.limits.max_body_bytes,
  loopbackOnly = true,
  log,
  signal,
}: RuntimeAppOptions): Dispatcher {
  validateOptions(token, maxBodyBytes);
  return createDispatcher({
    runtime,
    routes: [...RUNTIME_ROUTES, createOpenApiRoute()],
    gate: createGate({ token, loopbackOnly, allowedHosts }),
    maxBodyBytes,
    log,
    signal,
  });
}

/**
 * Builds the Hono app that serves a Runtime over REST (SPEC §6–§8) for a trusted backend.
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

/** The Hono app over a dispatcher: Hono routes (HEAD included), the dispatcher answers. */
export function honoApp(dispatcher: Dispatcher): Hono {
  const app = new Hono();
  for (const route of dispatcher.routes) {
    app.on(route.method, route.path, async function handleRoute(c) {
      return toResponse(
        await dispatcher.dispatch({ route, params: c.req.param() as Record<string, string> }, dispatchRequest(c)),
      );
    });
  }
  app.notFound(function unknownRoute(c) {
    return toResponse(dispatcher.unmatched(dispatchRequest(c)));
  });
  // The dispatcher answers every failure itself; this only guards against a fault in Hono.
  app.onError(function unexpected(error) {
    return toResponse(errorOutcome(error, resolveRequestId(undefined)).reply);
  });
  return app;
}
