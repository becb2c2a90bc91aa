import { setMaxListeners } from 'node:events';
import { type Runtime, RuntimeError } from '@worker-runtime/core';
import type { BodySource } from './body-source.js';
import { DetailCache } from './detail-cache.js';
import { EVENT_STREAM_HEADERS, EventStream } from './event-stream.js';
import { errorOutcome, HttpRuntimeError } from './http-errors.js';
import type { RuntimeHttpLogger } from './log.js';
import { createMatcher } from './matcher.js';
import { createHttpMetrics, type HttpMetrics } from './metrics.js';
import { assertNoQuery } from './query.js';
import { bytesReply, JSON_CONTENT_TYPE, jsonReply, type Reply } from './reply.js';
import { resolveRequestId } from './request-id.js';
import type { RouteDef, RouteResult, Scope } from './route.js';
import type { Gate, GateCaller } from './security.js';
import { KEEP_ALIVE_MS } from './watch-stream.js';

/** One request as both transports hand it over, whatever carried it. */
export interface DispatchRequest {
  method: string;
  /** The path relative to where the app is mounted, without the query. */
  path: string;
  /** The request target (path and query; may be a full URL). */
  url: string;
  /** A request header by lowercase name. */
  header(name: string): string | undefined;
  /** The body (null when there is none). */
  body: BodySource | null;
}

/** Runs requests through the one matcher, the gate, the handler and the one error mapping. */
export interface Dispatcher {
  /**
   * Answers one request, errors included (this never throws, and the promise never rejects):
   * synchronously when the route answered synchronously, so a transport can reply at once.
   */
  handle(request: DispatchRequest): Reply | Promise<Reply>;
  /** Stops the metrics observing the Runtime (the server closes). */
  close(): void;
}

/** What {@link createDispatcher} needs. */
export interface DispatcherOptions {
  runtime: Runtime;
  routes: readonly RouteDef[];
  gate: Gate;
  maxBodyBytes: number;
  log: RuntimeHttpLogger | undefined;
  signal: AbortSignal | undefined;
  /** Where requests are counted and `/metrics` reads from (default: new metrics over `runtime`). */
  metrics?: HttpMetrics | undefined;
  /** Silence before an event stream's `: keep-alive` comment (default 15 s). */
  streamKeepAliveMs?: number | undefined;
}

/** What one request carries from its start to its answer (for the metrics and the log line). */
interface Pending {
  request: DispatchRequest;
  started: number;
  requestId: string;
  route: RouteDef | null;
  caller: GateCaller;
}

// An unknown path under /v1 still needs a token, so an unauthenticated caller learns nothing.
function unmatchedScope(path: string): Scope | null {
  return path.startsWith('/v1/') ? 'read' : null;
}

/**
 * The framework-neutral core of the HTTP layer: every request, whether `createRuntimeApp()` or
 * `serveRuntime()` carried it, gets its request id, is matched against the route table, admitted
 * by the gate (token for the route's scope, Origin, Host), answered in one of the reply kinds and
 * logged here, and every failure goes through {@link errorOutcome}.
 */
export function createDispatcher({
  runtime,
  routes,
  gate,
  maxBodyBytes,
  log,
  signal,
  metrics = createHttpMetrics(runtime),
  streamKeepAliveMs = KEEP_ALIVE_MS,
}: DispatcherOptions): Dispatcher {
  const workerCache = new DetailCache();
  // Every open event stream listens to the shutdown signal: hundreds are normal, not a leak.
  if (signal) setMaxListeners(0, signal);
  const match = createMatcher(routes);

  function logRequest(
    { request, route, requestId, caller }: Pending,
    seconds: number,
    status: number,
    code?: string,
  ): void {
    log?.({
      level: 'debug',
      msg: 'request',
      request_id: requestId,
      method: request.method,
      path: request.path,
      ...(route !== null ? { route: route.path } : {}),
      ...(caller.token_name !== undefined ? { token_name: caller.token_name } : {}),
      status,
      duration_ms: Math.round(seconds * 1_000_000) / 1000,
      ...(code !== undefined ? { code } : {}),
    });
  }

  /** The error answer for `error`; an unexpected one is logged at error level first. */
  function failure(error: unknown, request: DispatchRequest, requestId: string): ReturnType<typeof errorOutcome> {
    const outcome = errorOutcome(error, requestId);
    if (outcome.internal && log) log({ ...outcome.internal, method: request.method, path: request.path });
    return outcome;
  }

  function toReply(result: RouteResult, request: DispatchRequest, requestId: string): Reply {
    if ('json' in result) return bytesReply(result.status, result.json, JSON_CONTENT_TYPE, requestId);
    if ('events' in result) {
      const onError = (error: unknown): void => void failure(error, request, requestId);
      // HEAD gets the stream's headers only: a producer nobody reads would wait forever, so it
      // runs already aborted (releasing what the handler opened for it) and its body is dropped.
      const stream = new EventStream(result.events, { signal, onError });
      if (request.method === 'HEAD') stream.discard();
      const body = request.method === 'HEAD' ? '' : stream;
      return { status: result.status, headers: { ...EVENT_STREAM_HEADERS, 'x-request-id': requestId }, body };
    }
    if ('text' in result) return bytesReply(result.status, result.text, result.contentType, requestId);
    return jsonReply(result.status, result.body, requestId);
  }

  function done(pending: Pending, status: number, code?: string): void {
    const seconds = (performance.now() - pending.started) / 1000;
    metrics.request(pending.route, status, seconds);
    if (log) logRequest(pending, seconds, status, code);
  }

  function fail(pending: Pending, error: unknown): Reply {
    const outcome = failure(error, pending.request, pending.requestId);
    done(pending, outcome.status, outcome.code);
    return outcome.reply;
  }

  function answer(pending: Pending, result: RouteResult): Reply {
    try {
      const reply = toReply(result, pending.request, pending.requestId);
      done(pending, reply.status);
      return reply;
    } catch (error) {
      return fail(pending, error);
    }
  }

  return {
    handle(request) {
      const pending: Pending = {
        request,
        started: performance.now(),
        requestId: resolveRequestId(request.header('x-request-id')),
        route: null,
        caller: {},
      };
      try {
        if (request.header('host') === undefined) {
          throw new RuntimeError('invalid_request', 'the request has no Host header');
        }
        const found = match(request.method, request.path);
        const route = found !== null && 'route' in found ? found.route : null;
        pending.route = route;
        gate(route ? route.scope : unmatchedScope(request.path), request.header, pending.caller);
        if (found === null) throw new RuntimeError('route_not_found', 'no route matches this method and path');
        if (!('route' in found)) {
          throw new HttpRuntimeError('method_not_allowed', `this route only accepts ${found.allow}`, {
            allow: found.allow,
          });
        }
        if (!found.route.doc.query) assertNoQuery(request.url);
        const result = found.route.handle({
          runtime,
          workerCache,
          params: found.params,
          url: request.url,
          body: request.body,
          header: request.header,
          maxBodyBytes,
          signal,
          metrics,
          streamKeepAliveMs,
        });
        // A synchronous answer (a cached read) is replied synchronously: no promise for it.
        if (!(result instanceof Promise)) return answer(pending, result);
        return result.then(
          (settled) => answer(pending, settled),
          (error: unknown) => fail(pending, error),
        );
      } catch (error) {
        return fail(pending, error);
      }
    },
    close: () => metrics.close(),
  };
}
