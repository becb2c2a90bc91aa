import {
  assertValidId,
  ERROR_CODES,
  type ErrorCode,
  type ErrorDetails,
  type InputAck,
  type InputRequest,
  type Runtime,
  type RuntimeCapabilities,
  RuntimeError,
  type WatchItem,
  type WorkerAddress,
} from '@worker-runtime/core';
import { type InputStreamItem, type ReconnectOptions, readStream, type StreamConnect } from './client-streams.js';

export type { InputStreamItem, ReconnectOptions } from './client-streams.js';

import type { Health, Ready } from './envelopes.js';
import type { RouteDef } from './route.js';
import { RUNTIME_ROUTES } from './routes/index.js';

/** The Runtime methods a remote client mirrors (same names, arguments and results as embedded). */
export type RemoteRuntimeApi = Pick<
  Runtime,
  | 'summary'
  | 'capabilities'
  | 'diagnostics'
  | 'listWorkers'
  | 'getWorker'
  | 'createWorker'
  | 'sendInput'
  | 'cancelWorker'
  | 'stopWorker'
  | 'getRun'
  | 'listRuns'
  | 'transcript'
  | 'readEvents'
>;

/** Options of {@link RuntimeClient.watchEvents}: where to start, which worker, and when to stop. */
export interface WatchEventsOptions {
  /** Replay events after this id (`0`: from the oldest retained); omitted: from the next new event. */
  after?: number;
  /** Only this worker's events and deltas. */
  worker_id?: string;
  /** Ends the stream (the iterator is then done). */
  signal?: AbortSignal;
}

/** Options of {@link RuntimeClient.streamRun}. */
export interface StreamRunOptions {
  /** Resume after this event id instead of from the run's start. */
  last_event_id?: number;
  /** Ends the stream (the iterator is then done). */
  signal?: AbortSignal;
}

/** Options of a streaming {@link RuntimeClient.sendInput}. */
export interface SendInputStreamOptions {
  stream: true;
  /** Ends the stream (the iterator is then done); the run goes on. */
  signal?: AbortSignal;
}

/** A typed REST client whose methods mirror the Runtime API, plus `health()` and `ready()`. */
export interface RuntimeClient extends Omit<RemoteRuntimeApi, 'sendInput'> {
  /**
   * `POST …/input` with `"stream": true`: yields `{type: 'ack', ack}` once the input is accepted,
   * then the run's events and deltas (as {@link streamRun}), and is done after the run's terminal
   * event (at once after the ack for a `system` input). Accepting errors are thrown by the first
   * `next()`; the POST itself is never retried, the run stream resumes on its own.
   */
  sendInput(
    worker: WorkerAddress,
    input: InputRequest,
    options: SendInputStreamOptions,
  ): AsyncGenerator<InputStreamItem, void, undefined>;
  /** `POST …/input`: the ack once the input is durable. */
  sendInput(worker: WorkerAddress, input: InputRequest): Promise<InputAck>;
  /**
   * `GET /v1/events/stream` as an async iterator of `{type: 'event', event}` and
   * `{type: 'delta', …}` items, the same items as `Runtime#watch`. Reconnects with `Last-Event-ID`
   * by itself when the connection drops or the server restarts (backing off; it throws after
   * `reconnect.attempts` failures in a row, or at once for a non-transient error such as
   * `cursor_expired`), never yields an event twice, and passes on each delta's text once.
   */
  watchEvents(options?: WatchEventsOptions): AsyncGenerator<WatchItem, void, undefined>;
  /**
   * `GET …/runs/{run_id}/stream`: one run's events and deltas from its start (or after
   * `last_event_id`); done after the run's terminal event. Reconnects like {@link watchEvents}.
   */
  streamRun(
    worker: WorkerAddress,
    run_id: string,
    options?: StreamRunOptions,
  ): AsyncGenerator<WatchItem, void, undefined>;
  /** `GET /healthz`. @throws RuntimeHttpError when the server does not answer 200 */
  health(): Promise<Health>;
  /**
   * `GET /readyz`.
   * @throws RuntimeHttpError `runtime_unavailable` while the Runtime closes, `store_unavailable` once its store cannot write
   */
  ready(): Promise<Ready>;
}

/** Options of {@link createRuntimeClient}. */
export interface RuntimeClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:7420`. */
  baseUrl: string;
  /** The Runtime token. Keep it in your backend; never send it to a browser. */
  token?: string | undefined;
  /** A fetch implementation (default: the global `fetch`). */
  fetch?: typeof fetch | undefined;
  /** How the stream iterators reconnect (defaults: 10 attempts, 1 s doubling up to 5 s). */
  reconnect?: ReconnectOptions | undefined;
}

/**
 * An error answered by a remote Runtime: the server's `code`, `message` and `details`, plus the
 * HTTP `status` and `request_id`. `isRuntimeError` and `.code` work as for an embedded Runtime.
 */
export class RuntimeHttpError extends RuntimeError {
  /** The HTTP status of the response (0 when no response arrived). */
  readonly status: number;
  /** The `x-request-id` of the response, when there was one. */
  readonly request_id: string | null;

  constructor(
    code: ErrorCode,
    message: string,
    options: { status: number; request_id: string | null; details?: ErrorDetails; cause?: unknown },
  ) {
    super(code, message, {
      ...(options.details !== undefined ? { details: options.details } : {}),
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
    this.status = options.status;
    this.request_id = options.request_id;
  }
}

type Query = Readonly<Record<string, string | number | undefined>>;

// The client's methods and paths come from the route table the server serves, by operation id.
const OPERATIONS = new Map<string, RouteDef>(RUNTIME_ROUTES.map((route) => [route.doc.operationId, route]));

/** The method and path of an operation, with its path parameters filled in (percent-encoded). */
function target(operationId: string, params: Readonly<Record<string, string>> = {}): { method: string; path: string } {
  const route = OPERATIONS.get(operationId) as RouteDef;
  const path = route.path.replace(/:([a-z_]+)/g, (_, name: string) => encodeURIComponent(params[name] as string));
  return { method: route.method, path };
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

async function toError(response: Response): Promise<RuntimeHttpError> {
  const request_id = response.headers.get('x-request-id');
  const fallback = response.status === 502 || response.status === 503 || response.status === 504;
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (error && isErrorCode(error.code) && typeof error.message === 'string') {
    const details = error.details && typeof error.details === 'object' ? (error.details as ErrorDetails) : undefined;
    return new RuntimeHttpError(error.code, error.message, {
      status: response.status,
      request_id,
      ...(details ? { details } : {}),
    });
  }
  return new RuntimeHttpError(
    fallback ? 'runtime_unavailable' : 'internal',
    `the server answered ${response.status} without a Runtime error body`,
    { status: response.status, request_id },
  );
}

/**
 * Creates a typed client for a Runtime served by `serveRuntime` / `createRuntimeApp`. Methods
 * return the unwrapped payloads (e.g. `getWorker` → `WorkerDetail`) and throw
 * {@link RuntimeHttpError} carrying the server's error `code`.
 * @example
 * const client = createRuntimeClient({ baseUrl: 'http://127.0.0.1:7420', token });
 * const worker = await client.createWorker({ intent: { kind: 'assistant' }, profile: { kind: 'runtime_default' } });
 * const ack = await client.sendInput(worker.worker_id, { kind: 'user', content: 'hello' });
 */
export function createRuntimeClient({
  baseUrl,
  token,
  fetch: fetchImpl = fetch,
  reconnect = {},
}: RuntimeClientOptions): RuntimeClient {
  const base = baseUrl.replace(/\/+$/, '');
  let runtimeId: Promise<string> | undefined;

  async function call<T>(
    operationId: string,
    params: Readonly<Record<string, string>>,
    key: string | null,
    options: { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    const { method, path } = target(operationId, params);
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) search.set(name, String(value));
    }
    const query = search.size > 0 ? `?${search}` : '';
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}${query}`, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
    } catch (cause) {
      throw new RuntimeHttpError('runtime_unavailable', 'the Runtime server could not be reached', {
        status: 0,
        request_id: null,
        cause,
      });
    }
    if (!response.ok) throw await toError(response);
    const payload = (await response.json()) as Record<string, unknown>;
    return (key === null ? payload : payload[key]) as T;
  }

  /** One stream request; a network failure is a `runtime_unavailable` error with status 0. */
  function streamRequest(
    operationId: string,
    params: Readonly<Record<string, string>>,
    options: { query?: Query; body?: unknown } = {},
  ): StreamConnect {
    const { method, path } = target(operationId, params);
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) search.set(name, String(value));
    }
    const url = `${base}${path}${search.size > 0 ? `?${search}` : ''}`;
    return async (last_event_id, signal) => {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      if (last_event_id !== undefined) headers['last-event-id'] = String(last_event_id);
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      try {
        return await fetchImpl(url, {
          method,
          headers,
          signal,
          ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        });
      } catch (cause) {
        throw new RuntimeHttpError('runtime_unavailable', 'the Runtime server could not be reached', {
          status: 0,
          request_id: null,
          cause,
        });
      }
    };
  }

  /** A run stream's connection (the reconnect of every run and input stream). */
  function runStream(worker_id: string, run_id: string): StreamConnect {
    return streamRequest('streamRun', { worker_id, run_id });
  }

  async function* sendInputStream(
    worker: WorkerAddress,
    input: InputRequest,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<InputStreamItem, void, undefined> {
    const params = await workerParams(worker);
    yield* readStream({
      connect: streamRequest('sendInput', params, { body: { ...input, stream: true } }),
      reconnect: (ack) => (ack?.run_id ? runStream(params.worker_id, ack.run_id) : null),
      ends_with_run: true,
      requires_ack: true,
      signal,
      retry: reconnect,
      toError,
    });
  }

  /** The path parameter for a worker; a `worker_ref` must name this Runtime, as embedded. */
  async function workerParams(worker: WorkerAddress): Promise<{ worker_id: string }> {
    if (typeof worker === 'object' && worker !== null) {
      assertValidId(worker.runtime_id, 'runtime_id');
      const id = assertValidId(worker.worker_id, 'worker_id');
      runtimeId ??= call<{ runtime_id: string }>('getRuntime', {}, 'runtime').then((s) => s.runtime_id);
      const own = await runtimeId.catch((error: unknown) => {
        runtimeId = undefined;
        throw error;
      });
      if (worker.runtime_id !== own) {
        throw new RuntimeError('worker_not_found', `worker ${id} does not belong to runtime ${own}`);
      }
      return { worker_id: id };
    }
    return { worker_id: assertValidId(worker, 'worker_id') };
  }

  function sendInput(
    worker: WorkerAddress,
    input: InputRequest,
    options: SendInputStreamOptions,
  ): AsyncGenerator<InputStreamItem, void, undefined>;
  function sendInput(worker: WorkerAddress, input: InputRequest): Promise<InputAck>;
  function sendInput(
    worker: WorkerAddress,
    input: InputRequest,
    options?: SendInputStreamOptions,
  ): Promise<InputAck> | AsyncGenerator<InputStreamItem, void, undefined> {
    if (options?.stream === true) return sendInputStream(worker, input, options.signal);
    return workerParams(worker).then((params) => call('sendInput', params, 'ack', { body: input }));
  }

  const client: RuntimeClient = {
    summary: () => call('getRuntime', {}, 'runtime'),
    capabilities: async () =>
      (await call<{ capabilities: RuntimeCapabilities }>('getRuntime', {}, 'runtime')).capabilities,
    diagnostics: () => call('getDiagnostics', {}, 'diagnostics'),
    listWorkers: (query = {}) => call('listWorkers', {}, null, { query: query as Query }),
    getWorker: async (worker) => call('getWorker', await workerParams(worker), 'worker'),
    createWorker: (request) => call('createWorker', {}, 'worker', { body: request }),
    sendInput,
    watchEvents: ({ signal, ...query } = {}) =>
      readStream({
        connect: streamRequest('streamEvents', {}, { query: query as Query }),
        // Resuming goes by Last-Event-ID, which the server prefers over `after`.
        reconnect: () => streamRequest('streamEvents', {}, { query: query as Query }),
        ...(query.after !== undefined ? { last_event_id: query.after } : {}),
        ends_with_run: false,
        requires_ack: false,
        signal,
        retry: reconnect,
        toError,
      }) as AsyncGenerator<WatchItem, void, undefined>,
    streamRun: (worker, run_id, { last_event_id, signal } = {}) =>
      (async function* streamRun(): AsyncGenerator<WatchItem, void, undefined> {
        const { worker_id } = await workerParams(worker);
        const connect = runStream(worker_id, assertValidId(run_id, 'run_id'));
        yield* readStream({
          connect,
          reconnect: () => connect,
          last_event_id,
          ends_with_run: true,
          requires_ack: false,
          signal,
          retry: reconnect,
          toError,
        }) as AsyncGenerator<WatchItem, void, undefined>;
      })(),
    cancelWorker: async (worker, request = {}) =>
      call('cancelWorker', await workerParams(worker), 'ack', { body: request }),
    stopWorker: async (worker, request = {}) =>
      call('stopWorker', await workerParams(worker), 'ack', { body: request }),
    getRun: async (worker, run_id, options = {}) =>
      call('getRun', { ...(await workerParams(worker)), run_id: assertValidId(run_id, 'run_id') }, 'run', {
        query: options as Query,
      }),
    listRuns: async (worker, query = {}) =>
      call('listRuns', await workerParams(worker), null, { query: query as Query }),
    transcript: async (worker, query = {}) =>
      call('getTranscript', await workerParams(worker), 'transcript', { query: query as Query }),
    readEvents: (query = {}) => call('readEvents', {}, 'events', { query: query as Query }),
    health: () => call('getHealth', {}, null),
    ready: () => call('getReady', {}, null),
  };
  return client;
}
