// Engines: the interface and the built-in echo engine
export type { EchoProfile, ParsedEchoProfile } from './echo-engine.js';
export { createEchoEngine, EchoProfileSchema } from './echo-engine.js';
export type {
  AppendEntry,
  EngineResult,
  EngineRun,
  EngineWorker,
  ProfileDescription,
  WorkerEngine,
} from './engine.js';
// Errors
export type { ErrorCode, ErrorDetails } from './errors.js';
export { ERROR_CODES, isRuntimeError, RuntimeError } from './errors.js';
// Group commit for store authors: concurrent commits share one flush, settled in call order
export type { CommitStages } from './group-commit.js';
export { GroupCommit } from './group-commit.js';
// Identity
export { assertValidId, displayRef, generateId, ID_MAX_LENGTH, ID_PATTERN, isValidId } from './identity.js';
// Limits
export { DEFAULT_LIMITS, resolveLimits } from './limits.js';
// The in-memory store
export { createMemoryStore, MemoryStore } from './memory-store.js';
export type { OutputDelta, OutputDeltaListener } from './output-deltas.js';
// Profiles
export type { ProfileCatalogOptions } from './profiles.js';
export { BUILTIN_DEFAULT_PROFILE } from './profiles.js';
// Runtime: the embeddable host of Workers
export type {
  EventListener,
  RunEnded,
  RunEndStatus,
  RuntimeMetricsSnapshot,
  RuntimeObserver,
  RuntimeOptions,
  StoreFailureListener,
  WorkerAddress,
} from './runtime.js';
export { Runtime } from './runtime.js';
// Wire schemas (valibot) and the types inferred from them
export type { ErrorBody, WorkerRef } from './schemas/common.js';
export {
  DisplayNameSchema,
  durationMs,
  ErrorBodySchema,
  ErrorCodeSchema,
  IdSchema,
  MAX_TIMER_MS,
  ReasonSchema,
  WorkerRefSchema,
} from './schemas/common.js';
export type { EventBatch, EventKind, EventQuery, RuntimeEvent } from './schemas/event.js';
export {
  EVENT_KINDS,
  EventBatchSchema,
  EventKindSchema,
  EventQuerySchema,
  RuntimeEventSchema,
} from './schemas/event.js';
export type {
  BusyPolicy,
  ControlAck,
  ControlRequest,
  DeleteAck,
  DeleteRequest,
  InputAck,
  InputRequest,
} from './schemas/input.js';
export {
  BusyPolicySchema,
  ControlAckSchema,
  ControlRequestSchema,
  DeleteAckSchema,
  DeleteQuerySchema,
  DeleteRequestSchema,
  InputAckSchema,
  InputRequestSchema,
} from './schemas/input.js';
// Retention
export type { ResolvedRetention, RetentionOptions } from './schemas/retention.js';
export {
  DEFAULT_IDEMPOTENCY_TTL_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  RetentionOptionsSchema,
  resolveRetention,
} from './schemas/retention.js';
export type { GetRunOptions, ListRunsQuery, RunError, RunPage, RunRecord, RunStatus } from './schemas/run.js';
export {
  GetRunOptionsSchema,
  ListRunsQuerySchema,
  RunErrorSchema,
  RunPageSchema,
  RunRecordSchema,
  RunStatusSchema,
  TERMINAL_RUN_STATUSES,
} from './schemas/run.js';
export type {
  Diagnostic,
  Limits,
  Profile,
  ProfileInfo,
  ProfileInput,
  RuntimeCapabilities,
  RuntimeStatus,
  RuntimeSummary,
  Severity,
} from './schemas/runtime.js';
export {
  DiagnosticSchema,
  LimitsSchema,
  PartialLimitsSchema,
  PROFILE_COMMON_ENTRIES,
  ProfileInfoSchema,
  ProfileSchema,
  RuntimeCapabilitiesSchema,
  RuntimeStatusSchema,
  RuntimeSummarySchema,
  SeveritySchema,
} from './schemas/runtime.js';
// Store records (what a Runtime commits) and the store contract
export {
  IdempotencyRecordSchema,
  PendingInputSchema,
  RuntimeRecordSchema,
  StoredRunSchema,
  StoreRecordSchema,
  WorkerRecordSchema,
} from './schemas/store.js';
export type { WatchDeltaItem, WatchEventItem, WatchItem, WatchQuery } from './schemas/stream.js';
export { OutputDeltaSchema, WatchQuerySchema } from './schemas/stream.js';
export type {
  ToolCall,
  TranscriptEntry,
  TranscriptEntryExtras,
  TranscriptPage,
  TranscriptQuery,
  TranscriptRole,
} from './schemas/transcript.js';
export {
  ToolCallSchema,
  TranscriptEntryExtrasSchema,
  TranscriptEntrySchema,
  TranscriptPageSchema,
  TranscriptQuerySchema,
  TranscriptRoleSchema,
} from './schemas/transcript.js';
export type {
  CapabilityRequest,
  ConfigBundleRef,
  CreateWorkerRequest,
  Intent,
  ListWorkersQuery,
  Metadata,
  NamedRef,
  ProfileRef,
  WorkerDetail,
  WorkerPage,
  WorkerStatus,
  WorkerSummary,
} from './schemas/worker.js';
export {
  CapabilityRequestSchema,
  ConfigBundleRefSchema,
  CreateWorkerRequestSchema,
  IntentSchema,
  ListWorkersQuerySchema,
  MetadataSchema,
  NamedRefSchema,
  ProfileRefSchema,
  WorkerDetailSchema,
  WorkerPageSchema,
  WorkerStatusSchema,
  WorkerSummarySchema,
} from './schemas/worker.js';
export type {
  IdempotencyRecord,
  PendingInput,
  RuntimeRecord,
  RuntimeStore,
  StoredRun,
  StoredWorker,
  StoreOpenRequest,
  StoreRecord,
  StoreSnapshot,
  WorkerRecord,
} from './store.js';
// Store bookkeeping every store derives the same way (last run, unfinished runs, last event id)
export type { EventTally, RunTally, UnfinishedRun } from './store-bookkeeping.js';
export { newTally, storedWorker, tallyEvent, tallyRun } from './store-bookkeeping.js';
// Validation helpers shared by every edge (HTTP, CLI)
export type { ValidationIssue } from './validation.js';
export { cleanIssueMessage, invalidRequest, parseOrThrow, toValidationIssues } from './validation.js';
// Version
export { VERSION } from './version.js';
// Live streams: what Runtime#watch returns and yields
export type { Watch } from './watch.js';
export type { WatchOptions } from './watch-hub.js';
export { watchItemData } from './watch-items.js';
