import { EventQuerySchema } from '@worker-runtime/core';
import { DiagnosticsEnvelopeSchema, EventsEnvelopeSchema, RuntimeEnvelopeSchema } from '../envelopes.js';
import { longPoll } from '../long-poll.js';
import { createQueryParser } from '../query.js';
import type { RouteDef } from '../route.js';

const parseEventQuery = createQueryParser(EventQuerySchema);

/** `GET /v1/runtime`: the Runtime summary. */
export const getRuntimeRoute: RouteDef = {
  method: 'GET',
  path: '/v1/runtime',
  scope: 'read',
  doc: {
    operationId: 'getRuntime',
    summary: 'Runtime summary',
    description: 'Ids, status, store, worker counts, active runs, limits, capabilities, profiles and version.',
    tags: ['runtime'],
    success: { status: 200, description: 'The Runtime summary', schema: RuntimeEnvelopeSchema },
    errors: [],
  },
  async handle({ runtime }) {
    return { status: 200, body: { runtime: await runtime.summary() } };
  },
};

/** `GET /v1/diagnostics`: the newest diagnostics. */
export const getDiagnosticsRoute: RouteDef = {
  method: 'GET',
  path: '/v1/diagnostics',
  scope: 'read',
  doc: {
    operationId: 'getDiagnostics',
    summary: 'Diagnostics',
    description: 'The newest diagnostics (at most `limits.max_diagnostics`), oldest first.',
    tags: ['runtime'],
    success: { status: 200, description: 'Diagnostics, oldest first', schema: DiagnosticsEnvelopeSchema },
    errors: [],
  },
  async handle({ runtime }) {
    return { status: 200, body: { diagnostics: await runtime.diagnostics() } };
  },
};

/** `GET /v1/events`: a batch of events after a cursor, long-polling while there is none. */
export const readEventsRoute: RouteDef = {
  method: 'GET',
  path: '/v1/events',
  scope: 'read',
  doc: {
    operationId: 'readEvents',
    summary: 'Read events',
    description:
      'Events after `after` (default 0), oldest first; pass `next_after` as the next `after`. With `wait_ms`, ' +
      'waits (at most `limits.max_wait_ms`) while nothing is after `after`, and answers at once when the server ' +
      'or Runtime shuts down.',
    tags: ['events'],
    query: EventQuerySchema,
    success: { status: 200, description: 'A batch of events', schema: EventsEnvelopeSchema },
    errors: ['invalid_request', 'invalid_id', 'limit_too_large', 'cursor_expired'],
  },
  async handle({ runtime, url, signal }) {
    const query = parseEventQuery(url);
    const events = await longPoll(
      signal,
      () => runtime.readEvents(query),
      () => runtime.readEvents({ ...query, wait_ms: 0 }),
    );
    return { status: 200, body: { events } };
  },
};
