// The REST app: mount it, or let serveRuntime listen. For trusted backends only; browsers never call a Runtime.
export type { RuntimeAppOptions } from './app.js';
export { createRuntimeApp } from './app.js';
// Typed client mirroring the Runtime API over REST
export type {
  InputStreamItem,
  ReconnectOptions,
  RemoteRuntimeApi,
  RuntimeClient,
  RuntimeClientOptions,
  SendInputStreamOptions,
  StreamRunOptions,
  WatchEventsOptions,
} from './client.js';
export { createRuntimeClient, RuntimeHttpError } from './client.js';
// Response envelopes (valibot schemas over core's wire schemas)
export type { Health, Ready } from './envelopes.js';
export {
  ControlAckEnvelopeSchema,
  DeleteAckEnvelopeSchema,
  DiagnosticsEnvelopeSchema,
  EventsEnvelopeSchema,
  HealthSchema,
  InputAckEnvelopeSchema,
  InputStreamMessageSchema,
  ReadySchema,
  RunEnvelopeSchema,
  RunPageEnvelopeSchema,
  RuntimeEnvelopeSchema,
  StreamMessageSchema,
  TranscriptEnvelopeSchema,
  WorkerEnvelopeSchema,
  WorkerPageEnvelopeSchema,
} from './envelopes.js';
// Error code → HTTP status mapping
export { ERROR_STATUS, RETRY_AFTER_SECONDS } from './http-errors.js';
// Logging
export type { LogEntry, RuntimeHttpLogger } from './log.js';
// OpenAPI document
export type {
  OpenApiDocument,
  OpenApiDocumentOptions,
  OpenApiOperation,
  OpenApiParameter,
  OpenApiResponse,
} from './openapi.js';
// Prometheus metrics (GET /metrics)
export { UNMATCHED_ROUTE } from './request-metrics.js';
// Route scopes (SPEC §14) and the loopback rule serve and the CLI share
export type { Scope } from './route.js';
export { createOpenApiDocument } from './routes/index.js';
export { isLoopbackAddress } from './security.js';
// Node server
export type { RuntimeServer, ServeRuntimeOptions, ServerTimeouts } from './server.js';
export { SERVER_TIMEOUTS, serveRuntime } from './server.js';
// Scoped tokens (SPEC §14): what `tokens` and the CLI's token file hold
export type { RuntimeToken } from './tokens.js';
export { RuntimeTokenSchema, RuntimeTokensSchema, TOKEN_SCOPES, TokenFileSchema, tokenIssue } from './tokens.js';
