import { GetRunOptionsSchema, ListRunsQuerySchema, TranscriptQuerySchema } from '@worker-runtime/core';
import { RunEnvelopeSchema, RunPageEnvelopeSchema, TranscriptEnvelopeSchema } from '../envelopes.js';
import { longPoll } from '../long-poll.js';
import { createQueryParser } from '../query.js';
import type { RouteDef } from '../route.js';
import { RunParamsSchema, WorkerParamsSchema } from './params.js';

const parseRunsQuery = createQueryParser(ListRunsQuerySchema);
const parseRunQuery = createQueryParser(GetRunOptionsSchema);
const parseTranscriptQuery = createQueryParser(TranscriptQuerySchema);

/** `GET /v1/workers/{worker_id}/runs`: a Worker's runs, oldest first. */
export const listRunsRoute: RouteDef = {
  method: 'GET',
  path: '/v1/workers/:worker_id/runs',
  scope: 'read',
  doc: {
    operationId: 'listRuns',
    summary: "List a worker's runs",
    description: 'Runs oldest first; default limit 100; `next_cursor` is null at the end.',
    tags: ['runs'],
    params: WorkerParamsSchema,
    query: ListRunsQuerySchema,
    success: { status: 200, description: 'A page of runs', schema: RunPageEnvelopeSchema },
    errors: ['invalid_id', 'worker_not_found', 'invalid_request', 'limit_too_large'],
  },
  async handle({ runtime, params, url }) {
    const page = await runtime.listRuns(params.worker_id as string, parseRunsQuery(url));
    return { status: 200, body: page };
  },
};

/** `GET /v1/workers/{worker_id}/runs/{run_id}`: one run, long-polling until terminal with `wait_ms`. */
export const getRunRoute: RouteDef = {
  method: 'GET',
  path: '/v1/workers/:worker_id/runs/:run_id',
  scope: 'read',
  doc: {
    operationId: 'getRun',
    summary: 'Get a run',
    description:
      'One run. With `wait_ms`, waits (at most `limits.max_wait_ms`) until the run is terminal, then answers; it ' +
      'answers with the current state when the wait ends or the server or Runtime shuts down.',
    tags: ['runs'],
    params: RunParamsSchema,
    query: GetRunOptionsSchema,
    success: { status: 200, description: 'The run', schema: RunEnvelopeSchema },
    errors: ['invalid_id', 'worker_not_found', 'run_not_found', 'invalid_request'],
  },
  async handle({ runtime, params, url, signal }) {
    const worker_id = params.worker_id as string;
    const run_id = params.run_id as string;
    const options = parseRunQuery(url);
    const run = await longPoll(
      signal,
      () => runtime.getRun(worker_id, run_id, options),
      () => runtime.getRun(worker_id, run_id),
    );
    return { status: 200, body: { run } };
  },
};

/** `GET /v1/workers/{worker_id}/transcript`: a page of the transcript. */
export const transcriptRoute: RouteDef = {
  method: 'GET',
  path: '/v1/workers/:worker_id/transcript',
  scope: 'read',
  doc: {
    operationId: 'getTranscript',
    summary: "Read a worker's transcript",
    description:
      '`start` is 0-based; `tail=N` returns the last N entries (not with `start`); default limit `min(256, max)`; ' +
      '`limit=0` is a 400.',
    tags: ['runs'],
    params: WorkerParamsSchema,
    query: TranscriptQuerySchema,
    success: { status: 200, description: 'A transcript page', schema: TranscriptEnvelopeSchema },
    errors: ['invalid_id', 'worker_not_found', 'invalid_request', 'limit_too_large'],
  },
  async handle({ runtime, params, url }) {
    const transcript = await runtime.transcript(params.worker_id as string, parseTranscriptQuery(url));
    return { status: 200, body: { transcript } };
  },
};
