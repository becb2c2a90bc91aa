import type { ErrorCode, Runtime } from '@worker-runtime/core';
import type * as v from 'valibot';
import type { BodySource } from './body-source.js';
import type { DetailCache } from './detail-cache.js';
import type { EventStreamProducer } from './event-stream.js';
import type { HttpMetrics } from './metrics.js';
import type { CoreQuerySchema } from './query.js';

/**
 * What a credential must allow to call a route (SPEC §14): `read` for GETs and streams,
 * `control` for create, input, cancel and stop, `admin` for delete and `/metrics`; `null` for the
 * public health routes. The gate receives it for every request.
 */
export type Scope = 'read' | 'control' | 'admin';

/** What a route handler gets: the Runtime and the parts of the request it may translate. */
export interface RouteContext {
  runtime: Runtime;
  /** Path parameters, percent-decoded. */
  params: Readonly<Record<string, string>>;
  /** The request target (path and query; may be a full URL). */
  url: string;
  /** The request body (null when the request has none, e.g. a GET). */
  body: BodySource | null;
  /** A request header by lowercase name. */
  header(name: string): string | undefined;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Serialised worker envelopes by revision (one cache per app). */
  workerCache: DetailCache;
  /** Aborted when the server shuts down: long-polls answer at once, streams end. */
  signal: AbortSignal | undefined;
  /** The app's Prometheus metrics (`GET /metrics`). */
  metrics: HttpMetrics;
  /** How long an event stream may stay silent before a `: keep-alive` comment, in ms. */
  streamKeepAliveMs: number;
}

/**
 * A handler's answer, one of three reply kinds, all sent through the same request id, gate and
 * error mapping: a JSON envelope (`body`, or `json` already serialised), plain `text` with its
 * content type (Prometheus `/metrics`), or an `events` producer for `text/event-stream` (SSE).
 * A handler that must fail throws a RuntimeError before it answers.
 */
export type RouteResult =
  | { status: number; body: unknown }
  | { status: number; json: string | Buffer }
  | { status: number; text: string; contentType: string }
  | { status: number; events: EventStreamProducer };

/** The OpenAPI description of a route; every schema is a core (or envelope) valibot schema. */
export interface RouteDoc {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  params?: v.GenericSchema;
  query?: CoreQuerySchema;
  body?: { schema: v.GenericSchema; required: boolean };
  /** The success answer; `kind` says which reply kind carries it (default `json`). */
  success: { status: number; description: string; schema: v.GenericSchema; kind?: 'json' | 'text' | 'events' };
  /** Other success statuses (e.g. 200 for a replayed input). */
  alsoSuccess?: { status: number; description: string; events?: v.GenericSchema };
  /** Error codes this route can answer, besides the ones every route can. */
  errors: ErrorCode[];
}

/** One REST route: method, path template (`/v1/workers/:worker_id`), scope, documentation and handler. */
export interface RouteDef {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** The scope a token needs; null for routes that need no token (`/healthz`, `/readyz`). */
  scope: Scope | null;
  doc: RouteDoc;
  /** Answers the request; synchronously when it can (a cached read), so that answer takes no promise. */
  handle(context: RouteContext): RouteResult | Promise<RouteResult>;
}
