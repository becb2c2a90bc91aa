import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeHeaderReader } from './app.js';
import type { Dispatcher } from './dispatch.js';

/**
 * Serves a GET that matches a route straight from Node's request and response objects, through the
 * same dispatcher (gate, handler, error mapping) as every other request. Reads are the hot path
 * of a Runtime's API, and skipping the web `Request`/`Response` round trip roughly doubles their
 * throughput (docs/performance.md). Returns false for anything else, which Hono then serves.
 */
export function serveGet(dispatcher: Dispatcher, incoming: IncomingMessage, outgoing: ServerResponse): boolean {
  if (incoming.method !== 'GET') return false;
  const url = incoming.url ?? '/';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const match = dispatcher.match('GET', path);
  if (!match) return false;
  const request = { method: 'GET', path, url, header: nodeHeaderReader(incoming), body: null };
  void dispatcher.dispatch(match, request).then((reply) => {
    if (outgoing.destroyed) return;
    reply.headers['content-length'] = String(
      typeof reply.body === 'string' ? Buffer.byteLength(reply.body) : reply.body.length,
    );
    outgoing.writeHead(reply.status, reply.headers);
    outgoing.end(reply.body);
  });
  return true;
}
