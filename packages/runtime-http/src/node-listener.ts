import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeBody } from './body-source.js';
import type { Dispatcher, DispatchRequest } from './dispatch.js';
import { EventStream } from './event-stream.js';
import type { Reply } from './reply.js';

/** A header reader over Node's already-parsed headers (no `Headers` copy). */
function nodeHeaderReader(incoming: IncomingMessage): (name: string) => string | undefined {
  const headers = incoming.headers;
  return (name) => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

/** `/path?query` for an absolute-form target (`GET http://host/path`, which HTTP/1.1 servers must accept). */
function originForm(target: string): string {
  if (target.startsWith('/')) return target;
  try {
    const url = new URL(target);
    return `${url.pathname}${url.search}`;
  } catch {
    return target;
  }
}

// Requests that carry no body skip the body reader entirely (the hot path of reads).
function hasBody(incoming: IncomingMessage): boolean {
  const length = incoming.headers['content-length'];
  return incoming.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function send(reply: Reply, outgoing: ServerResponse): void {
  if (outgoing.destroyed) {
    if (reply.body instanceof EventStream) reply.body.discard();
    return;
  }
  outgoing.writeHead(reply.status, reply.headers);
  if (reply.body instanceof EventStream) {
    outgoing.flushHeaders();
    reply.body.sendTo(outgoing);
  } else outgoing.end(reply.body);
}

// Only a fault in Node itself gets to the catch (every reply header is ours and valid): drop the connection.
function sendOrDrop(reply: Reply, outgoing: ServerResponse): void {
  try {
    send(reply, outgoing);
  } catch {
    outgoing.destroy();
  }
}

/**
 * The `node:http` transport over a dispatcher: every request goes straight from Node's request
 * and response objects through the same dispatcher (matcher, gate, handler, error mapping) that
 * `createRuntimeApp()` uses, without building a web `Request`/`Response` — for reads, roughly
 * double the throughput (docs/performance.md). Node answers HEAD without the body itself.
 */
export function createNodeListener(
  dispatcher: Dispatcher,
): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
  return function serveRuntimeRequest(incoming, outgoing) {
    const url = originForm(incoming.url ?? '/');
    const query = url.indexOf('?');
    const request: DispatchRequest = {
      method: incoming.method ?? 'GET',
      path: query === -1 ? url : url.slice(0, query),
      url,
      header: nodeHeaderReader(incoming),
      body: hasBody(incoming) ? nodeBody(incoming) : null,
    };
    const reply = dispatcher.handle(request);
    if (reply instanceof Promise) {
      void reply.then(
        (settled) => sendOrDrop(settled, outgoing),
        () => void outgoing.destroy(),
      );
    } else sendOrDrop(reply, outgoing);
  };
}
