import * as v from 'valibot';
import { CountSchema, DisplayNameSchema, durationMs, IdSchema, TimestampSchema, WorkerRefSchema } from './common.js';

const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));

/** Configurable limits (SPEC §11); every field optional on input, all present in a summary. */
export const LimitsSchema = v.object({
  max_workers: positiveInt,
  max_input_bytes: positiveInt,
  max_body_bytes: positiveInt,
  max_transcript_page: positiveInt,
  max_event_batch: positiveInt,
  max_list_page: positiveInt,
  max_queued_inputs: v.pipe(v.number(), v.integer(), v.minValue(0)),
  max_diagnostics: positiveInt,
  max_wait_ms: durationMs(0),
  max_retained_events: positiveInt,
  cancel_grace_ms: durationMs(0),
  max_streams: positiveInt,
  max_stream_buffer_bytes: positiveInt,
});
export type Limits = v.InferOutput<typeof LimitsSchema>;
export const PartialLimitsSchema = v.partial(v.strictObject(LimitsSchema.entries));

/** Diagnostic severity. */
export const SeveritySchema = v.picklist(['info', 'warning', 'error']);
export type Severity = v.InferOutput<typeof SeveritySchema>;

/** Something the Runtime or its store noticed that an operator should know. */
export const DiagnosticSchema = v.object({
  id: IdSchema,
  severity: SeveritySchema,
  code: v.string(),
  message: v.string(),
  worker_ref: v.optional(WorkerRefSchema),
  created_at: TimestampSchema,
});
export type Diagnostic = v.InferOutput<typeof DiagnosticSchema>;

/** One configured profile as reported to clients (engine options are not echoed). */
export const ProfileInfoSchema = v.object({
  name: v.string(),
  engine: v.string(),
  description: v.nullable(v.string()),
  capabilities: v.array(v.string()),
  default: v.boolean(),
});
export type ProfileInfo = v.InferOutput<typeof ProfileInfoSchema>;

/** What this Runtime can do. */
export const RuntimeCapabilitiesSchema = v.object({
  engines: v.array(v.string()),
  capabilities: v.array(v.string()),
  input_kinds: v.array(v.string()),
  busy_policies: v.array(v.string()),
  config_bundles: v.boolean(),
});
export type RuntimeCapabilities = v.InferOutput<typeof RuntimeCapabilitiesSchema>;

/** `running` serves · `closing` refuses mutations · `closed` is gone. */
export const RuntimeStatusSchema = v.picklist(['running', 'closing', 'closed']);
export type RuntimeStatus = v.InferOutput<typeof RuntimeStatusSchema>;

/** `GET /v1/runtime`. */
export const RuntimeSummarySchema = v.object({
  runtime_id: IdSchema,
  display_name: v.nullable(DisplayNameSchema),
  status: RuntimeStatusSchema,
  store: v.string(),
  workers: v.object({ total: CountSchema, idle: CountSchema, running: CountSchema, stopped: CountSchema }),
  active_runs: CountSchema,
  queued_inputs: CountSchema,
  last_event_id: CountSchema,
  limits: LimitsSchema,
  capabilities: RuntimeCapabilitiesSchema,
  profiles: v.array(ProfileInfoSchema),
  default_profile: v.string(),
  version: v.string(),
  started_at: TimestampSchema,
});
export type RuntimeSummary = v.InferOutput<typeof RuntimeSummarySchema>;

/**
 * The fields every profile may carry whatever its engine (SPEC §5). An engine's profile schema
 * spreads them next to its own options: `v.strictObject({ engine: v.literal('x'), ...PROFILE_COMMON_ENTRIES, … })`.
 */
export const PROFILE_COMMON_ENTRIES = {
  description: v.optional(v.string()),
  run_timeout_ms: v.optional(durationMs(1)),
  idle_timeout_ms: v.optional(durationMs(1)),
  capabilities: v.optional(v.array(v.string())),
};

/** A profile: which engine runs a Worker, with what options and timeouts (options are the engine's to check). */
export const ProfileSchema = v.looseObject({
  engine: v.pipe(v.string(), v.minLength(1)),
  ...PROFILE_COMMON_ENTRIES,
});
/** A validated profile as an engine receives it: its engine's defaults applied. */
export type Profile = v.InferOutput<typeof ProfileSchema>;
/** A profile as a user writes it in `RuntimeOptions.profiles` (engine options as the engine documents them). */
export type ProfileInput = v.InferInput<typeof ProfileSchema>;
