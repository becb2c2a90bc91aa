import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { MAX_TIMER_MS, type Runtime, RuntimeError } from '@worker-runtime/core';
import { createRuntimeDispatcher } from './app.js';
import type { RuntimeHttpLogger } from './log.js';
import { createNodeListener } from './node-listener.js';
import { JSON_CONTENT_TYPE } from './reply.js';
import { resolveRequestId } from './request-id.js';
import { isLoopbackAddress } from './security.js';
import type { RuntimeToken } from './tokens.js';

/** Options of {@link serveRuntime}. */
export interface ServeRuntimeOptions {
  /** The Runtime to serve. `close()` of the server does not close it. */
  runtime: Runtime;
  /** Address to bind (default `127.0.0.1`). A non-loopback address requires `token`. */
  host?: string;
  /** Port (default 7420; 0 picks a free one, reported in `port` and `url`). */
  port?: number;
  /** Bearer token required on every `/v1` route and `/metrics` (scope `admin`). A backend credential: never hand it to a browser. */
  token?: string | undefined;
  /** Scoped tokens (SPEC §14), accepted besides `token`; see `RuntimeAppOptions.tokens`. */
  tokens?: readonly RuntimeToken[] | undefined;
  /** Extra `Host` names accepted while bound to loopback. */
  allowedHosts?: readonly string[] | undefined;
  /** Largest request body in bytes (default: `runtime.limits.max_body_bytes`). */
  maxBodyBytes?: number | undefined;
  /** Structured log sink (one debug line per request; `internal` errors at error level). */
  log?: RuntimeHttpLogger | undefined;
  /** Overrides of the SPEC §8 timeouts in {@link SERVER_TIMEOUTS}, in milliseconds (each 1 to 2^31-1). */
  timeouts?: Partial<ServerTimeouts> | undefined;
  /** Silence (ms) before an event stream sends a `: keep-alive` comment (default 15000). */
  streamKeepAliveMs?: number | undefined;
}

/** The server's socket timeouts, in milliseconds. */
export interface ServerTimeouts {
  /** Time allowed to receive the request headers; late → 408. */
  headersTimeout: number;
  /** Time allowed to receive the whole request; late → 408. */
  requestTimeout: number;
  /** Idle time after which a keep-alive connection is closed. */
  keepAliveTimeout: number;
}

/** A listening Runtime server. */
export interface RuntimeServer {
  /** `http://host:port`, with the real port when 0 was asked. */
  url: string;
  host: string;
  port: number;
  /** The underlying Node server (timeouts per SPEC §8 unless overridden), for advanced use such as metrics. */
  server: Server;
  /**
   * Stops accepting connections, answers waiting long-polls at once, lets in-flight requests
   * finish and closes idle keep-alive connections. Does not close the Runtime.
   */
  close(): Promise<void>;
}

/** SPEC §8 server timeouts: a slow or stuck client cannot hold resources. */
export const SERVER_TIMEOUTS: Readonly<ServerTimeouts> = Object.freeze({
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
});

/**
 * Node checks `headersTimeout`/`requestTimeout` only once per `connectionsCheckingInterval`
 * (30 s by default), which would let a trickling client hold a socket for 30 s past the limit:
 * checking every second (or more often for shorter timeouts) enforces them close to on time.
 */
const MAX_CHECK_INTERVAL_MS = 1000;

function resolveTimeouts(overrides: Partial<ServerTimeouts> = {}): ServerTimeouts {
  const timeouts = { ...SERVER_TIMEOUTS, ...overrides };
  for (const [name, value] of Object.entries(timeouts)) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_TIMER_MS) {
      throw new RuntimeError('invalid_request', `timeouts.${name} must be an integer from 1 to ${MAX_TIMER_MS} ms`);
    }
  }
  if (timeouts.headersTimeout > timeouts.requestTimeout) {
    throw new RuntimeError('invalid_request', 'timeouts.headersTimeout must not exceed timeouts.requestTimeout');
  }
  return timeouts;
}

function formatUrl(host: string, port: number): string {
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  return `http://${bare.includes(':') ? `[${bare}]` : bare}:${port}`;
}

/**
 * Node 20 keeps an idle keep-alive socket open for `keepAliveTimeout` plus a fixed 1 s buffer;
 * SPEC §8 says the limit itself. Node arms that idle timer with `socket.setTimeout` once each
 * response ends, so the socket's `setTimeout` (set once per connection) arms the limit instead:
 * resetting it after every response would arm a second timer per request.
 */
const NODE_KEEP_ALIVE_BUFFER_MS = 1000;

/** Where a connection keeps its newest response, for close(). */
const RESPONSE = Symbol('response');
type TrackedSocket = Socket & { [RESPONSE]?: ServerResponse };

function armKeepAliveAsConfigured(socket: Socket, keepAliveTimeout: number): void {
  const nodeIdle = keepAliveTimeout + NODE_KEEP_ALIVE_BUFFER_MS;
  const setTimeout = socket.setTimeout;
  socket.setTimeout = function setSocketTimeout(this: Socket, ms: number, callback?: () => void): Socket {
    return setTimeout.call(this, ms === nodeIdle ? keepAliveTimeout : ms, callback);
  };
}

/** A raw JSON error for a connection the dispatcher never sees (Node rejected it, or CONNECT). */
function rawErrorResponse(statusLine: string, code: string, message: string, extra = ''): string {
  const body = JSON.stringify({ error: { code, message } });
  return (
    `HTTP/1.1 ${statusLine}\r\ncontent-type: ${JSON_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${resolveRequestId(undefined)}\r\n${extra}connection: close\r\n\r\n${body}`
  );
}

// Requests Node rejects before they reach the app (bad framing, header timeout) still get a JSON error.
function clientErrorResponse(error: NodeJS.ErrnoException): string {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return rawErrorResponse('408 Request Timeout', 'invalid_request', 'the request was not received in time');
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return rawErrorResponse(
      '431 Request Header Fields Too Large',
      'invalid_request',
      'the request headers are too large',
    );
  }
  return rawErrorResponse('400 Bad Request', 'invalid_request', 'the request is not valid HTTP');
}

// CONNECT (a proxy tunnel request) never reaches the 'request' listener; it gets a JSON 405.
const CONNECT_RESPONSE = (): string =>
  rawErrorResponse(
    '405 Method Not Allowed',
    'method_not_allowed',
    'CONNECT is not supported: this is not a proxy',
    'allow: GET, HEAD, POST\r\n',
  );

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const reason = error.code === 'EADDRINUSE' ? 'the address is already in use' : (error.code ?? 'listen failed');
      reject(
        new RuntimeError('runtime_unavailable', `cannot listen on ${formatUrl(host, port)}: ${reason}`, {
          details: { reason: error.code ?? 'unknown' },
          cause: error,
        }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Serves a Runtime over REST on `node:http`, through the same dispatcher (route table, matcher,
 * gate, error mapping) as `createRuntimeApp()`. Binding a non-loopback address without a token
 * refuses to start; on loopback, `Host` must be a loopback name or in `allowedHosts`.
 * @throws RuntimeError `invalid_request` (non-loopback without token, bad options), `runtime_unavailable` (cannot listen)
 * @example
 * const server = await serveRuntime({ runtime, port: 0 });
 * console.log(server.url);
 * await server.close();
 */
export async function serveRuntime({
  runtime,
  host = '127.0.0.1',
  port = 7420,
  token,
  tokens,
  allowedHosts,
  maxBodyBytes,
  log,
  timeouts: timeoutOverrides,
  streamKeepAliveMs,
}: ServeRuntimeOptions): Promise<RuntimeServer> {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RuntimeError('invalid_request', 'port must be an integer from 0 to 65535');
  }
  const timeouts = resolveTimeouts(timeoutOverrides);
  const loopbackOnly = isLoopbackAddress(host);
  if (!loopbackOnly && token === undefined && (tokens === undefined || tokens.length === 0)) {
    throw new RuntimeError(
      'invalid_request',
      `refusing to bind ${host} without a token: a non-loopback address needs a bearer token (or bind 127.0.0.1)`,
    );
  }
  const shutdown = new AbortController();
  const dispatcher = createRuntimeDispatcher({
    runtime,
    token,
    tokens,
    allowedHosts,
    maxBodyBytes,
    loopbackOnly,
    log,
    signal: shutdown.signal,
    streamKeepAliveMs,
  });
  const listener = createNodeListener(dispatcher);
  // Responses still being produced when close() starts carry `connection: close`, so their
  // keep-alive sockets end with them instead of holding close() open. Tracked per connection
  // (its newest response), not per request: a listener per response was a measurable share of a cached GET.
  const sockets = new Set<TrackedSocket>();
  let stopping = false;
  const checkEvery = Math.max(
    1,
    Math.min(MAX_CHECK_INTERVAL_MS, Math.floor(Math.min(timeouts.headersTimeout, timeouts.requestTimeout) / 4)),
  );
  const server = createServer(
    // A request without Host reaches the dispatcher, which answers it in JSON (Node's own is a bare 400).
    { ...timeouts, connectionsCheckingInterval: checkEvery, requireHostHeader: false },
    (incoming, outgoing) => {
      if (stopping) outgoing.shouldKeepAlive = false;
      (incoming.socket as TrackedSocket)[RESPONSE] = outgoing;
      listener(incoming, outgoing);
    },
  );
  server.on('connection', (socket: TrackedSocket) => {
    armKeepAliveAsConfigured(socket, timeouts.keepAliveTimeout);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('connect', (_request, socket: Socket) => {
    socket.on('error', () => undefined);
    socket.end(CONNECT_RESPONSE());
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && !socket.writableEnded) socket.end(clientErrorResponse(error));
    else socket.destroy();
  });
  const bound = await listen(server, host, port).catch((error: unknown) => {
    dispatcher.close();
    throw error;
  });
  let closing: Promise<void> | undefined;
  return {
    url: formatUrl(host, bound),
    host,
    port: bound,
    server,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        stopping = true;
        for (const socket of sockets) {
          const outgoing = socket[RESPONSE];
          // A response emits `close` (and is `destroyed`) once it is done: only the others are in flight.
          if (outgoing === undefined || outgoing.destroyed) continue;
          if (!outgoing.headersSent) outgoing.shouldKeepAlive = false;
          else {
            // A response already under way (an event stream) ends its connection when it
            // finishes, so close() does not wait for that keep-alive socket to time out.
            outgoing.once('finish', () => socket.end());
          }
        }
        server.close(() => resolve());
        shutdown.abort();
        dispatcher.close();
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
