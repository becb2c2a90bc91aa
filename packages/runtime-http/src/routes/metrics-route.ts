import * as v from 'valibot';
import type { RouteDef } from '../route.js';

/** `GET /metrics`: Prometheus text format (SPEC §14); needs scope `admin` when tokens are set. */
export const metricsRoute: RouteDef = {
  method: 'GET',
  path: '/metrics',
  scope: 'admin',
  doc: {
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    description:
      'Workers by status, runs, events, diagnostics, store commit latency, HTTP requests by route template, ' +
      'open streams, in the Prometheus text exposition format. docs/operations.md lists every series.',
    tags: ['runtime'],
    success: {
      status: 200,
      description: 'The metrics (Prometheus text format 0.0.4)',
      schema: v.string(),
      kind: 'text',
    },
    errors: [],
  },
  async handle({ metrics }) {
    return { status: 200, text: await metrics.render(), contentType: metrics.contentType };
  },
};
