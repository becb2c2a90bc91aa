/** A finished JSON answer: status, headers and the serialised body. Framework-neutral. */
export interface JsonReply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Serialises a JSON reply (content type included). */
export function jsonReply(status: number, body: unknown, headers: Record<string, string>): JsonReply {
  return rawJsonReply(status, JSON.stringify(body), headers);
}

/** A reply whose JSON body is already serialised. */
export function rawJsonReply(status: number, json: string | Buffer, headers: Record<string, string>): JsonReply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: json };
}

/**
 * A web `Response` for a reply. Plain-object headers (no `Headers` instance) keep
 * `@hono/node-server` on its fast path, which writes them straight to the socket.
 */
export function toResponse(reply: JsonReply): Response {
  return new Response(reply.body, { status: reply.status, headers: reply.headers });
}
