// Reads `GET /v1/workers/{id}/runs/{run_id}/stream` (SPEC §12's wire format) with eventsource-parser,
// resuming with Last-Event-ID when the connection drops before the run's terminal event.
import { ERROR_CODES, type ErrorCode } from '@worker-runtime/core';
import { RuntimeHttpError } from '@worker-runtime/http';
import { type EventSourceMessage, EventSourceParserStream } from 'eventsource-parser/stream';
import type { RunItem } from './runtime-link.js';

/** Event kinds after which a run changes no more; the Runtime closes the run stream after one. */
export const TERMINAL_RUN_EVENTS: ReadonlySet<string> = new Set([
  'run_completed',
  'run_failed',
  'run_cancelled',
  'run_timed_out',
  'run_interrupted',
]);

/** Until the server's `retry:` says otherwise. */
const DEFAULT_RETRY_MS = 1000;
/** Reconnections in a row that bring nothing before the relay gives up on the run's stream. */
const MAX_FRUITLESS_RECONNECTS = 5;

/** What {@link readRunStream} reads. */
export interface RunStreamRequest {
  url: string;
  token: string | undefined;
  /** Resume after this event id (null: from the run's start). */
  after: number | null;
  signal: AbortSignal;
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

async function responseError(response: Response): Promise<RuntimeHttpError> {
  const request_id = response.headers.get('x-request-id');
  const body = (await response.json().catch(() => undefined)) as { error?: { code?: unknown; message?: unknown } };
  const code = isErrorCode(body?.error?.code) ? body.error.code : 'internal';
  const message =
    typeof body?.error?.message === 'string' ? body.error.message : `the Runtime answered ${response.status}`;
  return new RuntimeHttpError(code, message, { status: response.status, request_id });
}

/** Worth a reconnect: no answer at all, or the Runtime briefly unavailable. */
function retryable(error: unknown): boolean {
  return error instanceof RuntimeHttpError && (error.status === 0 || error.status === 503);
}

async function open(request: RunStreamRequest, cursor: number | null): Promise<ReadableStream<Uint8Array>> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
  if (cursor !== null) headers['last-event-id'] = String(cursor);
  let response: Response;
  try {
    response = await fetch(request.url, { headers, signal: request.signal });
  } catch (cause) {
    if (request.signal.aborted) throw cause;
    throw new RuntimeHttpError('runtime_unavailable', 'the Runtime server could not be reached', {
      status: 0,
      request_id: null,
      cause,
    });
  }
  if (!response.ok || response.body === null) throw await responseError(response);
  return response.body;
}

function toItem(message: EventSourceMessage): RunItem | null {
  if (message.event === 'output_delta') {
    const { entry, offset, content } = JSON.parse(message.data) as { entry: number; offset: number; content: string };
    return { type: 'delta', entry, offset, content };
  }
  if (message.id === undefined || message.event === undefined) return null;
  return { type: 'event', id: Number(message.id), kind: message.event };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The run's items until its terminal event. A drop (the Runtime restarting, or cutting off a
 * reader that fell too far behind) reconnects after the last event seen; the catch-up delta that
 * follows a reconnect starts at offset 0, so the consumer places deltas by offset.
 */
export async function* readRunStream(request: RunStreamRequest): AsyncGenerator<RunItem> {
  let cursor = request.after;
  let retryMs = DEFAULT_RETRY_MS;
  let fruitless = 0;
  for (;;) {
    let progressed = false;
    try {
      const body = await open(request, cursor);
      const messages = body.pipeThrough(new TextDecoderStream()).pipeThrough(
        new EventSourceParserStream({
          onRetry: (ms) => {
            retryMs = ms;
          },
        }),
      );
      for await (const message of messages) {
        const item = toItem(message);
        if (item === null) continue;
        progressed = true;
        yield item;
        if (item.type === 'event') {
          cursor = item.id;
          if (TERMINAL_RUN_EVENTS.has(item.kind)) return;
        }
      }
    } catch (error) {
      if (request.signal.aborted || !(retryable(error) || error instanceof TypeError)) throw error;
    }
    fruitless = progressed ? 0 : fruitless + 1;
    if (fruitless > MAX_FRUITLESS_RECONNECTS) {
      throw new RuntimeHttpError('runtime_unavailable', 'the run stream keeps closing before the run ends', {
        status: 0,
        request_id: null,
      });
    }
    await sleep(retryMs, request.signal);
  }
}
