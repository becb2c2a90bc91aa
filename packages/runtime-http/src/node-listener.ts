import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeBody } from './body-source.js';
import type { Dispatcher, DispatchRequest } from './dispatch.js';
import { eventStreamCutOff } from './event-stream.js';
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

/** Writes a byte stream to the socket, waiting for `drain` whenever the socket's buffer is full. */
async function pipeStream(body: ReadableStream<Uint8Array>, outgoing: ServerResponse): Promise<void> {
  const reader = body.getReader();
  const cancel = (): void => {
    reader.cancel().catch(() => undefined);
  };
  // The client going away cancels the stream, which aborts its producer.
  outgoing.once('close', cancel);
  const cutOff = eventStreamCutOff(body);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || outgoing.destroyed) break;
      if (!outgoing.write(value)) {
        await new Promise<void>((resolve) => {
          const settle = (): void => {
            outgoing.off('drain', settle);
            outgoing.off('close', settle);
            cutOff?.removeEventListener('abort', settle);
            resolve();
          };
          outgoing.on('drain', settle);
          outgoing.on('close', settle);
          cutOff?.addEventListener('abort', settle, { once: true });
          if (cutOff?.aborted) settle();
        });
        // A stream cut off while its reader does not read (a slow consumer, shutdown): drop the
        // connection rather than wait for a reader that may never come back.
        if (cutOff?.aborted && outgoing.writableNeedDrain) {
          outgoing.destroy();
          break;
        }
      }
    }
  } finally {
    outgoing.off('close', cancel);
    if (cutOff?.aborted && outgoing.writableNeedDrain) outgoing.destroy();
    else if (!outgoing.destroyed) outgoing.end();
  }
}

function send(reply: Reply, outgoing: ServerResponse): void {
  if (outgoing.destroyed) {
    if (reply.body instanceof ReadableStream) reply.body.cancel().catch(() => undefined);
    return;
  }
  outgoing.writeHead(reply.status, reply.headers);
  if (reply.body instanceof ReadableStream) {
    outgoing.flushHeaders();
    void pipeStream(reply.body, outgoing);
  } else outgoing.end(reply.body);
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
    void dispatcher
      .handle(request)
      .then((reply) => send(reply, outgoing))
      // Only a fault in Node itself gets here (every reply header is ours and valid): drop the connection.
      .catch(() => outgoing.destroy());
  };
}
