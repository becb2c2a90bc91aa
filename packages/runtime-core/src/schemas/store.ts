import * as v from 'valibot';
import { CountSchema, IdSchema, TimestampSchema } from './common.js';
import { RuntimeEventSchema } from './event.js';
import { InputAckSchema } from './input.js';
import { RunRecordSchema } from './run.js';
import { DiagnosticSchema } from './runtime.js';
import { TranscriptEntrySchema } from './transcript.js';
import {
  CapabilityRequestSchema,
  ConfigBundleRefSchema,
  IntentSchema,
  MetadataSchema,
  NamedRefSchema,
  ProfileRefSchema,
} from './worker.js';

// The records a Runtime commits to its store. Persistent stores validate what they read back with these.

/** The runtime's own persisted identity. */
export const RuntimeRecordSchema = v.object({
  runtime_id: IdSchema,
  display_name: v.nullable(v.string()),
  created_at: TimestampSchema,
});

/**
 * A Worker as persisted. Its live status (`running`) and counters are derived, so only a stop
 * rewrites it; `stopped_event_id` lets repeated stops answer the same event.
 */
export const WorkerRecordSchema = v.object({
  worker_id: IdSchema,
  display_name: v.nullable(v.string()),
  intent: IntentSchema,
  profile: ProfileRefSchema,
  config_bundle: v.nullable(ConfigBundleRefSchema),
  requested_capabilities: v.array(CapabilityRequestSchema),
  workspace_refs: v.array(NamedRefSchema),
  mount_refs: v.array(NamedRefSchema),
  metadata: MetadataSchema,
  created_at: TimestampSchema,
  status: v.picklist(['idle', 'stopped']),
  stopped_event_id: v.nullable(CountSchema),
  /** The create request's idempotency key and a fingerprint of its body; absent without a key. */
  idempotency: v.optional(v.object({ key: v.string(), fingerprint: v.string() })),
});

/** The part of a user input a queued run still needs to start. */
export const PendingInputSchema = v.object({ content: v.string(), timeout_ms: v.nullable(CountSchema) });

/** The latest state of one run; `input` only while it is `queued` (then the transcript holds it). */
export const StoredRunSchema = v.object({
  worker_id: IdSchema,
  run: RunRecordSchema,
  input: v.nullable(PendingInputSchema),
});

/** A durable idempotency record: the original ack and a fingerprint of the input that made it. */
export const IdempotencyRecordSchema = v.object({
  worker_id: IdSchema,
  key: v.string(),
  fingerprint: v.string(),
  ack: InputAckSchema,
});

/**
 * One durable effect. `runtime`/`worker` replace the record, `run` replaces the run with that
 * `run_id` (latest wins), the others append.
 */
export const StoreRecordSchema = v.variant('type', [
  v.object({ type: v.literal('runtime'), runtime: RuntimeRecordSchema }),
  v.object({ type: v.literal('worker'), worker: WorkerRecordSchema }),
  v.object({ type: v.literal('run'), run: StoredRunSchema }),
  v.object({ type: v.literal('transcript'), entry: TranscriptEntrySchema }),
  v.object({ type: v.literal('event'), event: RuntimeEventSchema }),
  v.object({ type: v.literal('idempotency'), record: IdempotencyRecordSchema }),
  v.object({ type: v.literal('diagnostic'), diagnostic: DiagnosticSchema }),
]);
