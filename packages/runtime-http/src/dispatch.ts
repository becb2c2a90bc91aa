import { type Runtime, RuntimeError } from '@worker-runtime/core';
import { DetailCache } from './detail-cache.js';
import { errorOutcome, HttpRuntimeError } from './http-errors.js';
import type { RuntimeHttpLogger } from './log.js';
import { assertNoQuery } from './query.js';
import { resolveRequestId } from './request-id.js';
import { type JsonReply, jsonReply, rawJsonReply } from './respond.js';
import type { RouteDef } from './route.js';
import type { Gate } from './security.js';

/** One request as every serving path sees it, whatever framework carried it. */
export interface DispatchRequest {
  method: string;
  /** The path, without the query. */
  path: string;
  /** The request target (path and query). */
  url: string;
  /** A request header by lowercase name. */
  header(name: string): string | undefined;
  /** The body stream (null when there is none). */
  body: ReadableStream<Uint8Array> | null;
}

/** A route matched against a path, with its decoded path parameters. */
export interface RouteMatch {
  route: RouteDef;
  params: Record<string, string>;
}

/** Runs requests through the gate, the route table and the one error mapping. */
export interface Dispatcher {
  /** The route table, in registration order. */
  readonly routes: readonly RouteDef[];
  /** The route for `method` and `path`, or null. */
  match(method: string, path: string): RouteMatch | null;
  /** Answers a matched route (errors included: this never throws). */
  dispatch(match: RouteMatch, request: DispatchRequest): Promise<JsonReply>;
  /** Answers a request no route matched: 405 with `Allow` for a known path, else 404. */
  unmatched(request: DispatchRequest): JsonReply;
}

interface CompiledRoute {
  route: RouteDef;
  segments: readonly string[];
}

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

function matchSegments(compiled: CompiledRoute, parts: readonly string[]): Record<string, string> | null {
  if (compiled.segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const expected = compiled.segments[i] as string;
    const actual = parts[i] as string;
    if (expected.startsWith(':')) {
      const value = actual === '' ? null : decode(actual);
      if (value === null) return null;
      params[expected.slice(1)] = value;
    } else if (expected !== actual) {
      return null;
    }
  }
  return params;
}

/**
 * The framework-neutral core of the HTTP layer: every request, whether Hono or the GET fast path
 * carried it, is admitted (request id, then the gate: Origin, Host, token), routed, answered and
 * logged here, and every failure goes through {@link errorOutcome}.
 */
export function createDispatcher(options: {
  runtime: Runtime;
  routes: readonly RouteDef[];
  gate: Gate;
  maxBodyBytes: number;
  log: RuntimeHttpLogger | undefined;
  signal: AbortSignal | undefined;
}): Dispatcher {
  const { runtime, gate, maxBodyBytes, log, signal } = options;
  const workerCache = new DetailCache();
  const compiled: CompiledRoute[] = options.routes.map((route) => ({ route, segments: route.path.split('/') }));

  function logRequest(
    request: DispatchRequest,
    requestId: string,
    started: number,
    status: number,
    code?: string,
  ): void {
    log?.({
      level: 'debug',
      msg: 'request',
      request_id: requestId,
      method: request.method,
      path: request.path,
      status,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      ...(code !== undefined ? { code } : {}),
    });
  }

  function failure(error: unknown, request: DispatchRequest, requestId: string, started: number): JsonReply {
    const outcome = errorOutcome(error, requestId);
    if (outcome.internal && log) log({ ...outcome.internal, method: request.method, path: request.path });
    if (log) logRequest(request, requestId, started, outcome.status, outcome.code);
    return outcome.reply;
  }

  return {
    routes: options.routes,
    match(method, path) {
      const parts = path.split('/');
      for (const entry of compiled) {
        if (entry.route.method !== method) continue;
        const params = matchSegments(entry, parts);
        if (params) return { route: entry.route, params };
      }
      return null;
    },

    async dispatch({ route, params }, request) {
      const started = log ? performance.now() : 0;
      const requestId = resolveRequestId(request.header('x-request-id'));
      try {
        gate(request.path, request.header);
        if (!route.doc.query) assertNoQuery(request.url);
        const result = await route.handle({
          runtime,
          workerCache,
          params,
          url: request.url,
          body: request.body,
          header: request.header,
          maxBodyBytes,
          signal,
        });
        if (log) logRequest(request, requestId, started, result.status);
        const headers = { 'x-request-id': requestId };
        return 'json' in result
          ? rawJsonReply(result.status, result.json, headers)
          : jsonReply(result.status, result.body, headers);
      } catch (error) {
        return failure(error, request, requestId, started);
      }
    },

    unmatched(request) {
      const started = log ? performance.now() : 0;
      const requestId = resolveRequestId(request.header('x-request-id'));
      try {
        gate(request.path, request.header);
        const parts = request.path.split('/');
        const methods = compiled.filter((entry) => matchSegments(entry, parts)).map((entry) => entry.route.method);
        if (methods.length === 0) throw new RuntimeError('route_not_found', 'no route matches this method and path');
        const allow = [...new Set(methods.flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method])))].join(
          ', ',
        );
        throw new HttpRuntimeError('method_not_allowed', `this route only accepts ${allow}`, { allow });
      } catch (error) {
        return failure(error, request, requestId, started);
      }
    },
  };
}
