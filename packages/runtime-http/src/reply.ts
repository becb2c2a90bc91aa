import { EventStream } from './event-stream.js';

/**
 * A finished answer, framework-neutral: status, headers and the body — bytes for JSON and text
 * (with `content-length`), or an {@link EventStream} for `text/event-stream`, which each transport runs its own way.
 */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer | EventStream;
}

/**
 * A reply carrying `body` as it is, with its content type and length, the request id and any
 * `extra` headers, in that order. One object literal: this builds every cached GET's answer.
 */
export function bytesReply(
  status: number,
  body: string | Buffer,
  contentType: string,
  requestId: string,
  extra?: Readonly<Record<string, string>>,
): Reply {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const headers: Record<string, string> = {
    'content-type': contentType,
    'content-length': String(length),
    'x-request-id': requestId,
  };
  if (extra !== undefined) Object.assign(headers, extra);
  return { status, headers, body };
}

/** The content type of every JSON answer. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Serialises a JSON reply (headers as {@link bytesReply} writes them). */
export function jsonReply(
  status: number,
  body: unknown,
  requestId: string,
  extra?: Readonly<Record<string, string>>,
): Reply {
  return bytesReply(status, JSON.stringify(body), JSON_CONTENT_TYPE, requestId, extra);
}

/**
 * A web `Response` for a reply. Plain-object headers (no `Headers` instance) keep
 * `@hono/node-server` (when an embedder serves the app with it) on its fast path.
 */
export function toResponse(reply: Reply): Response {
  const body = reply.body instanceof EventStream ? reply.body.toReadable() : reply.body;
  return new Response(body, { status: reply.status, headers: reply.headers });
}
