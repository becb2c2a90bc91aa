/**
 * Builds a JSON response with plain-object headers. Plain headers (no `Headers` instance) keep
 * `@hono/node-server` on its fast path, which writes them straight to the socket.
 */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}
