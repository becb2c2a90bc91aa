import type { RouteDef } from '../route.js';
import { healthRoute, readyRoute } from './health-routes.js';
import { getRunRoute, listRunsRoute, transcriptRoute } from './run-routes.js';
import { getDiagnosticsRoute, getRuntimeRoute, readEventsRoute } from './runtime-routes.js';
import {
  cancelWorkerRoute,
  createWorkerRoute,
  getWorkerRoute,
  listWorkersRoute,
  sendInputRoute,
  stopWorkerRoute,
} from './worker-routes.js';

/** Every REST route of SPEC §7 except the OpenAPI document, in documentation order. */
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
  transcriptRoute,
  readEventsRoute,
  getDiagnosticsRoute,
  healthRoute,
  readyRoute,
];
