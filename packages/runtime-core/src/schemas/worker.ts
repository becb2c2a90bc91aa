import * as v from 'valibot';
import { CountSchema, DisplayNameSchema, IdSchema, TimestampSchema, WorkerRefSchema } from './common.js';
import { RunRecordSchema } from './run.js';

/** Why a Worker exists. */
export const IntentSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('assistant'), purpose: v.optional(v.pipe(v.string(), v.maxLength(4096))) }),
  v.strictObject({ kind: v.literal('task'), objective: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)) }),
  v.strictObject({
    kind: v.literal('role'),
    role: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
    purpose: v.optional(v.pipe(v.string(), v.maxLength(4096))),
  }),
]);
export type Intent = v.InferOutput<typeof IntentSchema>;

/** Which profile a Worker runs with. */
export const ProfileRefSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('runtime_default') }),
  v.strictObject({ kind: v.literal('builtin'), value: v.literal('echo') }),
  v.strictObject({ kind: v.literal('named'), value: v.pipe(v.string(), v.minLength(1), v.maxLength(128)) }),
]);
export type ProfileRef = v.InferOutput<typeof ProfileRefSchema>;

/** A configuration bundle reference (not supported yet: `unsupported_operation`). */
export const ConfigBundleRefSchema = v.strictObject({
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  digest: v.optional(v.pipe(v.string(), v.maxLength(256))),
});
export type ConfigBundleRef = v.InferOutput<typeof ConfigBundleRefSchema>;

/** A capability the creator asks for; the profile's engine must declare it. */
export const CapabilityRequestSchema = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  reason: v.optional(v.pipe(v.string(), v.maxLength(1024))),
});
export type CapabilityRequest = v.InferOutput<typeof CapabilityRequestSchema>;

/** An opaque named reference, stored and echoed, never interpreted. */
export const NamedRefSchema = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  reference: v.pipe(v.string(), v.maxLength(4096)),
});
export type NamedRef = v.InferOutput<typeof NamedRefSchema>;

/** string → string, at most 16 pairs. */
export const MetadataSchema = v.pipe(
  v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(128)), v.pipe(v.string(), v.maxLength(1024))),
  v.check((value) => Object.keys(value).length <= 16, 'must have at most 16 entries'),
);
export type Metadata = v.InferOutput<typeof MetadataSchema>;

/** `POST /v1/workers` body and `Runtime#createWorker` argument. */
export const CreateWorkerRequestSchema = v.strictObject({
  worker_id: v.optional(IdSchema),
  display_name: v.optional(DisplayNameSchema),
  intent: IntentSchema,
  profile: ProfileRefSchema,
  config_bundle: v.optional(ConfigBundleRefSchema),
  requested_capabilities: v.optional(v.pipe(v.array(CapabilityRequestSchema), v.maxLength(64))),
  workspace_refs: v.optional(v.pipe(v.array(NamedRefSchema), v.maxLength(64))),
  mount_refs: v.optional(v.pipe(v.array(NamedRefSchema), v.maxLength(64))),
  metadata: v.optional(MetadataSchema),
  /** Makes a retried create safe: the same key with the same body answers the worker it created. */
  idempotency_key: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(128))),
});
export type CreateWorkerRequest = v.InferInput<typeof CreateWorkerRequestSchema>;

/** `idle` accepts input · `running` has one active run · `stopped` is terminal. */
export const WorkerStatusSchema = v.picklist(['idle', 'running', 'stopped']);
export type WorkerStatus = v.InferOutput<typeof WorkerStatusSchema>;

const workerSummaryEntries = {
  worker_ref: WorkerRefSchema,
  worker_id: IdSchema,
  runtime_id: IdSchema,
  display_name: v.nullable(DisplayNameSchema),
  display_ref: v.string(),
  status: WorkerStatusSchema,
  intent: IntentSchema,
  profile: ProfileRefSchema,
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
  transcript_len: CountSchema,
  last_event_id: CountSchema,
  active_run: v.nullable(RunRecordSchema),
  queued_inputs: CountSchema,
};

/** A Worker as listed. */
export const WorkerSummarySchema = v.object(workerSummaryEntries);
export type WorkerSummary = v.InferOutput<typeof WorkerSummarySchema>;

/** A Worker as shown alone: the summary plus its last run and creation inputs. */
export const WorkerDetailSchema = v.object({
  ...workerSummaryEntries,
  last_run: v.nullable(RunRecordSchema),
  requested_capabilities: v.array(CapabilityRequestSchema),
  workspace_refs: v.array(NamedRefSchema),
  mount_refs: v.array(NamedRefSchema),
  metadata: v.record(v.string(), v.string()),
  config_bundle: v.nullable(ConfigBundleRefSchema),
});
export type WorkerDetail = v.InferOutput<typeof WorkerDetailSchema>;

/** `listWorkers` query: optional status filter, page size and opaque cursor. */
export const ListWorkersQuerySchema = v.strictObject({
  status: v.optional(WorkerStatusSchema),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(1024))),
});
export type ListWorkersQuery = v.InferInput<typeof ListWorkersQuerySchema>;

/** One page of Workers in creation order; `next_cursor` is null at the end. */
export const WorkerPageSchema = v.object({
  workers: v.array(WorkerSummarySchema),
  next_cursor: v.nullable(v.string()),
});
export type WorkerPage = v.InferOutput<typeof WorkerPageSchema>;
