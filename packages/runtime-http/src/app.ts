import type { IncomingMessage } from 'node:http';
import { type Runtime, RuntimeError } from '@worker-runtime/core';
import { type Context, Hono } from 'hono';
import { errorOutcome, HttpRuntimeError } from './http-errors.js';
import type { RuntimeHttpLogger } from './log.js';
import { createOpenApiRoute } from './openapi.js';
import { resolveRequestId } from './request-id.js';
import { jsonResponse } from './respond.js';
import type { RouteDef } from './route.js';
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

type Env = { Variables: { request_id: string; started: number } };
type HeaderReader = (name: string) => string | undefined;

/** Reads headers straight from Node's IncomingMessage when served by @hono/node-server (no `Headers` copy). */
function headerReader(c: Context<Env>): HeaderReader {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming) {
    const headers = incoming.headers;
    return (name) => {
      const value = headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };
  }
  return (name) => c.req.header(name) ?? (name === 'host' ? new URL(c.req.url).host : undefined);
}

function pathPattern(path: string): RegExp {
  return new RegExp(`^${path.replace(/\./g, '\\.').replace(/:[a-z_]+/g, '[^/]+')}$`);
}

function validateOptions(token: string | undefined, maxBodyBytes: number): void {
  if (token !== undefined && !/^[\x21-\x7e]{1,4096}$/.test(token)) {
    throw new RuntimeError('invalid_request', 'the token must be 1-4096 visible ASCII characters without spaces');
  }
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new RuntimeError('invalid_request', 'maxBodyBytes must be a positive integer');
  }
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
export function createRuntimeApp({
  runtime,
  token,
  allowedHosts = [],
  maxBodyBytes = runtime.limits.max_body_bytes,
  loopbackOnly = true,
  log,
  signal,
}: RuntimeAppOptions): Hono<Env> {
  validateOptions(token, maxBodyBytes);
  const gate = createGate({ token, loopbackOnly, allowedHosts });
  const routes: readonly RouteDef[] = [...RUNTIME_ROUTES, createOpenApiRoute()];
  const known = routes.map((route) => ({ route, pattern: pathPattern(route.path) }));
  const app = new Hono<Env>();

  function logRequest(c: Context<Env>, requestId: string, status: number, code?: string): void {
    if (!log) return;
    const started = c.get('started');
    log({
      level: 'debug',
      msg: 'request',
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status,
      ...(started !== undefined ? { duration_ms: Math.round((performance.now() - started) * 1000) / 1000 } : {}),
      ...(code !== undefined ? { code } : {}),
    });
  }

  // The one place a failure becomes a response: every error, from any route or the gate.
  function respondToError(error: unknown, c: Context<Env>): Response {
    const requestId = c.get('request_id') ?? resolveRequestId(headerReader(c)('x-request-id'));
    const outcome = errorOutcome(error, requestId);
    if (outcome.internal && log) log({ ...outcome.internal, method: c.req.method, path: c.req.path });
    logRequest(c, requestId, outcome.status, outcome.code);
    return outcome.response;
  }

  /** Starts a request: request id, timing, then the gate (Origin, Host, token). */
  function admit(c: Context<Env>, header: HeaderReader): string {
    const requestId = resolveRequestId(header('x-request-id'));
    c.set('request_id', requestId);
    if (log) c.set('started', performance.now());
    gate(c.req.path, header);
    return requestId;
  }

  for (const route of routes) {
    app.on(route.method, route.path, async function handleRoute(c) {
      try {
        const header = headerReader(c);
        const requestId = admit(c, header);
        const result = await route.handle({
          runtime,
          params: c.req.param() as Record<string, string>,
          url: c.req.url,
          request: c.req.raw,
          header,
          maxBodyBytes,
          signal,
        });
        logRequest(c, requestId, result.status);
        return jsonResponse(result.status, result.body, { 'x-request-id': requestId });
      } catch (error) {
        return respondToError(error, c);
      }
    });
  }

  app.notFound(function unknownRoute(c) {
    admit(c, headerReader(c));
    const allowed = known.filter(({ pattern }) => pattern.test(c.req.path)).map(({ route }) => route.method);
    if (allowed.length > 0) {
      const allow = [...new Set(allowed.flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method])))].join(
        ', ',
      );
      throw new HttpRuntimeError('method_not_allowed', `this route only accepts ${allow}`, { allow });
    }
    throw new RuntimeError('route_not_found', 'no route matches this method and path');
  });
  app.onError(respondToError);
  return app;
}
