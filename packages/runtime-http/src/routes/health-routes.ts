import { RuntimeError } from '@worker-runtime/core';
import { HealthSchema, ReadySchema } from '../envelopes.js';
import type { RouteDef } from '../route.js';

/** `GET /healthz`: the process answers (no auth, no data). */
export const healthRoute: RouteDef = {
  method: 'GET',
  path: '/healthz',
  scope: null,
  doc: {
    operationId: 'getHealth',
    summary: 'Liveness',
    description: 'Answers while the process serves HTTP. Needs no token and carries no data.',
    tags: ['health'],
    success: { status: 200, description: 'Alive', schema: HealthSchema },
    errors: [],
  },
  async handle() {
    return { status: 200, body: { status: 'ok' } };
  },
};

/** `GET /readyz`: the store is open and writable, recovery is done and the Runtime accepts work. */
export const readyRoute: RouteDef = {
  method: 'GET',
  path: '/readyz',
  scope: null,
  doc: {
    operationId: 'getReady',
    summary: 'Readiness',
    description:
      'Ready once the store is open and recovery is done; 503 `runtime_unavailable` while the Runtime closes, ' +
      '503 `store_unavailable` once the store can no longer write (until the Runtime is reopened). ' +
      'Needs no token and carries no data.',
    tags: ['health'],
    success: { status: 200, description: 'Ready', schema: ReadySchema },
    errors: ['runtime_unavailable', 'store_unavailable'],
  },
  async handle({ runtime }) {
    if (runtime.status !== 'running') throw new RuntimeError('runtime_unavailable', 'the runtime is shutting down');
    // The store's own message may name its errno; readiness only says what an operator must do.
    if (runtime.storeFailure !== null) {
      throw new RuntimeError(
        'store_unavailable',
        'the store can no longer write; the runtime accepts no changes until restarted',
      );
    }
    return { status: 200, body: { status: 'ready' } };
  },
};
