import {
  ControlRequestSchema,
  CreateWorkerRequestSchema,
  DeleteQuerySchema,
  DeleteRequestSchema,
  InputRequestSchema,
  ListWorkersQuerySchema,
  parseOrThrow,
} from '@worker-runtime/core';
import {
  ControlAckEnvelopeSchema,
  DeleteAckEnvelopeSchema,
  InputAckEnvelopeSchema,
  InputStreamMessageSchema,
  WorkerEnvelopeSchema,
  WorkerPageEnvelopeSchema,
} from '../envelopes.js';
import { readJsonBody } from '../json-body.js';
import { createQueryParser } from '../query.js';
import type { RouteContext, RouteDef, RouteResult } from '../route.js';
import { WorkerParamsSchema } from './params.js';
import { streamInput, wantsInputStream } from './stream-routes.js';

const parseListQuery = createQueryParser(ListWorkersQuerySchema);
const parseDeleteQuery = createQueryParser(DeleteQuerySchema);

// Bodies are handed to the Runtime as parsed; it validates them with the same core schemas.
function body(context: RouteContext, optional: boolean): Promise<unknown> {
  return readJsonBody(context.body, context.header, { maxBytes: context.maxBodyBytes, optional });
}

function workerId(context: RouteContext): string {
  return context.params.worker_id as string;
}

const BODY_ERRORS = ['invalid_json', 'invalid_request', 'payload_too_large', 'unsupported_media_type'] as const;
const MUTATION_ERRORS = ['runtime_unavailable', 'store_unavailable'] as const;

/** `GET /v1/workers`: Workers in creation order. */
export const listWorkersRoute: RouteDef = {
  method: 'GET',
  path: '/v1/workers',
  scope: 'read',
  doc: {
    operationId: 'listWorkers',
    summary: 'List workers',
    description: 'Workers in creation order, optionally filtered by `status`; default limit 100.',
    tags: ['workers'],
    query: ListWorkersQuerySchema,
    success: { status: 200, description: 'A page of worker summaries', schema: WorkerPageEnvelopeSchema },
    errors: ['invalid_request', 'limit_too_large'],
  },
  async handle(context) {
    const page = await context.runtime.listWorkers(parseListQuery(context.url));
    return { status: 200, body: page };
  },
};

/** `POST /v1/workers`: creates a Worker. */
export const createWorkerRoute: RouteDef = {
  method: 'POST',
  path: '/v1/workers',
  scope: 'control',
  doc: {
    operationId: 'createWorker',
    summary: 'Create a worker',
    description: 'Creates a Worker from a profile. `config_bundle` is not supported yet (422).',
    tags: ['workers'],
    body: { schema: CreateWorkerRequestSchema, required: true },
    success: { status: 201, description: 'The new Worker', schema: WorkerEnvelopeSchema },
    errors: [
      ...BODY_ERRORS,
      'invalid_id',
      'duplicate_worker',
      'capacity_exceeded',
      'unknown_profile',
      'unsupported_capability',
      'unsupported_operation',
      ...MUTATION_ERRORS,
    ],
  },
  async handle(context) {
    const request = (await body(context, false)) as Parameters<typeof context.runtime.createWorker>[0];
    return { status: 201, body: { worker: await context.runtime.createWorker(request) } };
  },
};

/** `GET /v1/workers/{worker_id}`: one Worker in detail. */
export const getWorkerRoute: RouteDef = {
  method: 'GET',
  path: '/v1/workers/:worker_id',
  scope: 'read',
  doc: {
    operationId: 'getWorker',
    summary: 'Get a worker',
    tags: ['workers'],
    params: WorkerParamsSchema,
    success: { status: 200, description: 'The Worker in detail', schema: WorkerEnvelopeSchema },
    errors: ['invalid_id', 'worker_not_found'],
  },
  handle(context) {
    const id = workerId(context);
    const revision = context.runtime.workerRevisionSync(id);
    const json = context.workerCache.get(id, revision);
    // A polling backend mostly reads an unchanged Worker: that answer is synchronous, no promise.
    return json !== undefined ? { status: 200, json } : readDetail(context, id, revision);
  },
};

/** Reads the Worker's detail and caches its JSON, only when no event landed while reading (so it is exactly `revision`). */
async function readDetail(context: RouteContext, id: string, revision: number): Promise<RouteResult> {
  const worker = await context.runtime.getWorker(id);
  if (context.runtime.workerRevisionSync(id) !== revision) return { status: 200, body: { worker } };
  const json = Buffer.from(JSON.stringify({ worker }));
  context.workerCache.set(id, revision, json);
  return { status: 200, json };
}

/** `POST /v1/workers/{worker_id}/input`: sends input (202; 200 when replayed by idempotency key). */
export const sendInputRoute: RouteDef = {
  method: 'POST',
  path: '/v1/workers/:worker_id/input',
  scope: 'control',
  doc: {
    operationId: 'sendInput',
    summary: 'Send input',
    description:
      'A `user` input starts a run (or queues, rejects or interrupts per `on_busy`); a `system` input is appended ' +
      'to the transcript. The same `idempotency_key` with the same body answers the original ack with ' +
      '`replayed: true` and status 200. With `"stream": true` (or `Accept: text/event-stream`) the answer is ' +
      '200 `text/event-stream`: `event: ack` with the ack, then the run’s stream (as `GET …/runs/{run_id}/stream`; ' +
      'a replayed input streams its original run, a system input’s stream ends after the ack).',
    tags: ['workers'],
    params: WorkerParamsSchema,
    body: { schema: InputRequestSchema, required: true },
    success: { status: 202, description: 'Input accepted', schema: InputAckEnvelopeSchema },
    alsoSuccess: {
      status: 200,
      description:
        'The original ack, replayed for a repeated idempotency key; or, streaming, the ack and the run stream',
      events: InputStreamMessageSchema,
    },
    errors: [
      ...BODY_ERRORS,
      'invalid_id',
      'worker_not_found',
      'worker_busy',
      'queue_full',
      'worker_stopped',
      'idempotency_conflict',
      'too_many_streams',
      ...MUTATION_ERRORS,
    ],
  },
  async handle(context) {
    const input = (await body(context, false)) as Parameters<typeof context.runtime.sendInput>[1];
    if (wantsInputStream(input, context)) return streamInput(context, workerId(context), input);
    const ack = await context.runtime.sendInput(workerId(context), input);
    return { status: ack.replayed ? 200 : 202, body: { ack } };
  },
};

/** `POST /v1/workers/{worker_id}/cancel`: cancels the active run. */
export const cancelWorkerRoute: RouteDef = {
  method: 'POST',
  path: '/v1/workers/:worker_id/cancel',
  scope: 'control',
  doc: {
    operationId: 'cancelWorker',
    summary: 'Cancel the active run',
    description: 'Answers once the run ended `cancelled` (or after the grace period); `run_id` is null when idle.',
    tags: ['workers'],
    params: WorkerParamsSchema,
    body: { schema: ControlRequestSchema, required: false },
    success: { status: 200, description: 'Cancel acknowledged', schema: ControlAckEnvelopeSchema },
    errors: [...BODY_ERRORS, 'invalid_id', 'worker_not_found', ...MUTATION_ERRORS],
  },
  async handle(context) {
    const request = (await body(context, true)) as Parameters<typeof context.runtime.cancelWorker>[1];
    return { status: 200, body: { ack: await context.runtime.cancelWorker(workerId(context), request) } };
  },
};

/** `POST /v1/workers/{worker_id}/stop`: stops the Worker for good. */
export const stopWorkerRoute: RouteDef = {
  method: 'POST',
  path: '/v1/workers/:worker_id/stop',
  scope: 'control',
  doc: {
    operationId: 'stopWorker',
    summary: 'Stop a worker',
    description: 'Cancels the active run and queued inputs, then marks the Worker `stopped`. Idempotent.',
    tags: ['workers'],
    params: WorkerParamsSchema,
    body: { schema: ControlRequestSchema, required: false },
    success: { status: 200, description: 'Stop acknowledged', schema: ControlAckEnvelopeSchema },
    errors: [...BODY_ERRORS, 'invalid_id', 'worker_not_found', ...MUTATION_ERRORS],
  },
  async handle(context) {
    const request = (await body(context, true)) as Parameters<typeof context.runtime.stopWorker>[1];
    return { status: 200, body: { ack: await context.runtime.stopWorker(workerId(context), request) } };
  },
};

/** `DELETE /v1/workers/{worker_id}?force=`: deletes a stopped Worker and its data (admin scope). */
export const deleteWorkerRoute: RouteDef = {
  method: 'DELETE',
  path: '/v1/workers/:worker_id',
  scope: 'admin',
  doc: {
    operationId: 'deleteWorker',
    summary: 'Delete a worker',
    description:
      'Deletes a `stopped` Worker (409 `worker_not_stopped` otherwise; `force=true` stops it first): a durable ' +
      '`worker_deleted` event, then its transcript, runs and idempotency records are removed. Reads then answer ' +
      '404 and the id stays reserved (`duplicate_worker`). The body is optional (`{force?}`); an empty one means ' +
      'no options.',
    tags: ['workers'],
    params: WorkerParamsSchema,
    query: DeleteQuerySchema,
    body: { schema: DeleteRequestSchema, required: false },
    success: { status: 200, description: 'The Worker is deleted', schema: DeleteAckEnvelopeSchema },
    errors: [...BODY_ERRORS, 'invalid_id', 'worker_not_found', 'worker_not_stopped', ...MUTATION_ERRORS],
  },
  async handle(context) {
    // The query parser passes strings through; the picklist is checked here (nothing downstream sees them).
    const { force } = parseOrThrow(DeleteQuerySchema, parseDeleteQuery(context.url), 'query');
    const request = (await body(context, true)) as Parameters<typeof context.runtime.deleteWorker>[1];
    const options = force === undefined ? request : { ...request, force: force === 'true' };
    return { status: 200, body: { ack: await context.runtime.deleteWorker(workerId(context), options) } };
  },
};
