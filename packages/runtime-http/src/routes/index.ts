import { buildOpenApiDocument, type OpenApiDocument, type OpenApiDocumentOptions } from '../openapi.js';
import type { RouteDef } from '../route.js';
import { healthRoute, readyRoute } from './health-routes.js';
import { openApiRoute } from './openapi-route.js';
import { getRunRoute, listRunsRoute, transcriptRoute } from './run-routes.js';
import { getDiagnosticsRoute, getRuntimeRoute, readEventsRoute } from './runtime-routes.js';
import { eventStreamRoute, runStreamRoute } from './stream-routes.js';
import {
  cancelWorkerRoute,
  createWorkerRoute,
  getWorkerRoute,
  listWorkersRoute,
  sendInputRoute,
  stopWorkerRoute,
} from './worker-routes.js';

/**
 * The route table: every REST route of SPEC §7 and the streams of §12, in documentation order. It alone drives the
 * matcher of both transports (`createRuntimeApp`, `serveRuntime`) and the OpenAPI document.
 */
export const RUNTIME_ROUTES: readonly RouteDef[] = [
  getRuntimeRoute,
  listWorkersRoute,
  createWorkerRoute,
  getWorkerRoute,
  sendInputRoute,
  cancelWorkerRoute,
  stopWorkerRoute,
  listRunsRoute,
  getRunRoute,
  runStreamRoute,
  transcriptRoute,
  readEventsRoute,
  eventStreamRoute,
  getDiagnosticsRoute,
  openApiRoute(() => RUNTIME_ROUTES),
  healthRoute,
  readyRoute,
];

/**
 * Generates the OpenAPI 3.1 document of the REST API from the route table and core's valibot
 * schemas, without serving anything.
 */
export async function createOpenApiDocument(options: OpenApiDocumentOptions = {}): Promise<OpenApiDocument> {
  return buildOpenApiDocument(RUNTIME_ROUTES, options);
}
