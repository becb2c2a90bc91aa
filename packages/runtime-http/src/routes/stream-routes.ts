import { type InputAck, RuntimeError, type Watch, WatchQuerySchema } from '@worker-runtime/core';
import * as v from 'valibot';
import { StreamMessageSchema } from '../envelopes.js';
import { createQueryParser } from '../query.js';
import type { RouteContext, RouteDef, RouteResult } from '../route.js';
import { lastEventId, openWatch, watchProducer } from '../watch-stream.js';
import { RunParamsSchema } from './params.js';

/** `GET /v1/events/stream` query: where to start and which worker; the entries are core's. */
const EventStreamQuerySchema = v.pick(WatchQuerySchema, ['after', 'worker_id']);
const parseEventStreamQuery = createQueryParser(EventStreamQuerySchema);

const STREAM_ERRORS = ['invalid_request', 'too_many_streams', 'runtime_unavailable'] as const;

/** `GET /v1/events/stream`: durable events and output deltas as server-sent events. */
export const eventStreamRoute: RouteDef = {
  method: 'GET',
  path: '/v1/events/stream',
  scope: 'read',
  doc: {
    operationId: 'streamEvents',
    summary: 'Stream events and output deltas',
    description:
      'Server-sent events: each durable event as `id: <event id>`, `event: <kind>`, `data: <event JSON>`; each ' +
      'output delta as `event: output_delta`, `data: <delta JSON>` without an id. Starts after `Last-Event-ID` ' +
      '(which wins over `after`), else after `after` (`after=0`: the oldest retained event), else at the next new ' +
      'event. Replayed events first, then one catch-up delta per entry in progress, then live items. ' +
      '`retry: 1000` first, a `: keep-alive` comment every 15 s. A reader more than ' +
      '`limits.max_stream_buffer_bytes` behind is disconnected and resumes with `Last-Event-ID`.',
    tags: ['streams'],
    query: EventStreamQuerySchema,
    success: { status: 200, description: 'The event stream', schema: StreamMessageSchema, kind: 'events' },
    errors: [...STREAM_ERRORS, 'invalid_id', 'cursor_expired'],
  },
  async handle(context) {
    const query = parseEventStreamQuery(context.url) as { after?: number; worker_id?: string };
    const after = lastEventId(context) ?? query.after;
    const watch = await openWatch(context, {
      ...(after !== undefined ? { after } : {}),
      ...(query.worker_id !== undefined ? { worker_id: query.worker_id } : {}),
    });
    return { status: 200, events: watchProducer(watch, { keepAliveMs: context.streamKeepAliveMs }) };
  },
};

/** `GET /v1/workers/{worker_id}/runs/{run_id}/stream`: one run's stream, ending after its terminal event. */
export const runStreamRoute: RouteDef = {
  method: 'GET',
  path: '/v1/workers/:worker_id/runs/:run_id/stream',
  scope: 'read',
  doc: {
    operationId: 'streamRun',
    summary: 'Stream a run',
    description:
      "The run's durable events from its start (or after `Last-Event-ID`), the catch-up delta of the entry in " +
      'progress, then live deltas and events; the server ends the stream after the run’s terminal event ' +
      '(`run_completed`, `run_failed`, `run_cancelled`, `run_timed_out`, `run_interrupted`). A run that already ' +
      'ended is replayed, then the stream ends.',
    tags: ['streams'],
    params: RunParamsSchema,
    success: { status: 200, description: 'The run stream', schema: StreamMessageSchema, kind: 'events' },
    errors: [...STREAM_ERRORS, 'invalid_id', 'worker_not_found', 'run_not_found', 'cursor_expired'],
  },
  async handle(context) {
    const watch = await openWatch(context, {
      worker_id: context.params.worker_id as string,
      run_id: context.params.run_id as string,
      after: lastEventId(context) ?? 0,
    });
    return { status: 200, events: watchProducer(watch, { keepAliveMs: context.streamKeepAliveMs }) };
  },
};

/** True when an input asks for its run's stream: `"stream": true`, or `Accept: text/event-stream` without `"stream": false`. */
export function wantsInputStream(input: unknown, context: RouteContext): boolean {
  const stream = typeof input === 'object' && input !== null ? (input as { stream?: unknown }).stream : undefined;
  if (stream !== undefined) return stream === true;
  return (context.header('accept') ?? '').toLowerCase().includes('text/event-stream');
}

/**
 * `POST …/input` answered as a stream: the input is accepted exactly as without a stream (errors
 * are JSON), then `event: ack` carries the ack and the run's stream follows from the run's first
 * event, so a replayed idempotent input streams its original run. A system input has no run: the
 * stream holds the ack and ends. So does one whose watch cannot open once the input is accepted
 * (the runtime closing, or the streams limit reached meanwhile): the ack is never lost.
 */
export async function streamInput(context: RouteContext, worker_id: string, input: unknown): Promise<RouteResult> {
  const { runtime } = context;
  // Checked before the input is accepted, so a refused stream never leaves an accepted input behind.
  if (runtime.watchCount >= runtime.limits.max_streams) {
    throw new RuntimeError('too_many_streams', `${runtime.limits.max_streams} streams are already open`, {
      details: { max_streams: runtime.limits.max_streams },
    });
  }
  const ack: InputAck = await runtime.sendInput(worker_id, input as Parameters<typeof runtime.sendInput>[1]);
  let watch: Watch | null = null;
  if (ack.run_id !== null) {
    watch = await openWatch(context, {
      worker_id: ack.worker_ref.worker_id,
      run_id: ack.run_id,
      // The run's first event is the input's `worker_input_accepted`.
      after: ack.event_id - 1,
    }).catch(() => null);
  }
  return {
    status: 200,
    events: watchProducer(watch, {
      keepAliveMs: context.streamKeepAliveMs,
      prelude: { event: 'ack', data: JSON.stringify(ack) },
    }),
  };
}
