import type { ErrorCode, Runtime } from '@worker-runtime/core';
import type * as v from 'valibot';
import type { DetailCache } from './detail-cache.js';
import type { CoreQuerySchema } from './query.js';

/** What a route handler gets: the Runtime and the parts of the request it may translate. */
export interface RouteContext {
  runtime: Runtime;
  /** Path parameters, percent-decoded. */
  params: Readonly<Record<string, string>>;
  /** The full request URL (for the query). */
  url: string;
  /** The request body stream (null for a GET). */
  body: ReadableStream<Uint8Array> | null;
  /** A request header by lowercase name. */
  header(name: string): string | undefined;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Serialised worker envelopes by revision (one cache per app). */
  workerCache: DetailCache;
  /** Aborted when the server shuts down: long-polls answer at once with what they have. */
  signal: AbortSignal | undefined;
}

/** A handler's answer: a status and the JSON envelope (or the envelope already serialised). */
export type RouteResult = { status: number; body: unknown } | { status: number; json: string | Buffer };

/** The OpenAPI description of a route; every schema is a core (or envelope) valibot schema. */
export interface RouteDoc {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  params?: v.GenericSchema;
  query?: CoreQuerySchema;
  body?: { schema: v.GenericSchema; required: boolean };
  success: { status: number; description: string; schema: v.GenericSchema };
  /** Other success statuses (e.g. 200 for a replayed input). */
  alsoSuccess?: { status: number; description: string };
  /** Error codes this route can answer, besides the ones every `/v1` route can. */
  errors: ErrorCode[];
}

/** One REST route: method, Hono path, its documentation and the handler. */
export interface RouteDef {
  method: 'GET' | 'POST';
  path: string;
  doc: RouteDoc;
  handle(context: RouteContext): Promise<RouteResult>;
}
