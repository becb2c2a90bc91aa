import {
  ControlAckSchema,
  DiagnosticSchema,
  EventBatchSchema,
  InputAckSchema,
  OutputDeltaSchema,
  RunPageSchema,
  RunRecordSchema,
  RuntimeEventSchema,
  RuntimeSummarySchema,
  TranscriptPageSchema,
  WorkerDetailSchema,
  WorkerPageSchema,
} from '@worker-runtime/core';
import * as v from 'valibot';

// The JSON envelope of every successful response (SPEC §7), built from core's wire schemas.

/** `GET /v1/runtime` → `{ runtime }`. */
export const RuntimeEnvelopeSchema = v.object({ runtime: RuntimeSummarySchema });
/** `GET /v1/workers` → `{ workers, next_cursor }`. */
export const WorkerPageEnvelopeSchema = WorkerPageSchema;
/** `POST /v1/workers`, `GET /v1/workers/{id}` → `{ worker }`. */
export const WorkerEnvelopeSchema = v.object({ worker: WorkerDetailSchema });
/** `POST …/input` → `{ ack }`. */
export const InputAckEnvelopeSchema = v.object({ ack: InputAckSchema });
/** `POST …/cancel`, `POST …/stop` → `{ ack }`. */
export const ControlAckEnvelopeSchema = v.object({ ack: ControlAckSchema });
/** `GET …/runs` → `{ runs, next_cursor }`. */
export const RunPageEnvelopeSchema = RunPageSchema;
/** `GET …/runs/{run_id}` → `{ run }`. */
export const RunEnvelopeSchema = v.object({ run: RunRecordSchema });
/** `GET …/transcript` → `{ transcript }`. */
export const TranscriptEnvelopeSchema = v.object({ transcript: TranscriptPageSchema });
/** `GET /v1/events` → `{ events }`. */
export const EventsEnvelopeSchema = v.object({ events: EventBatchSchema });
/** `GET /v1/diagnostics` → `{ diagnostics }`. */
export const DiagnosticsEnvelopeSchema = v.object({ diagnostics: v.array(DiagnosticSchema) });
/** `GET /healthz` → `{ status: "ok" }`. */
export const HealthSchema = v.object({ status: v.literal('ok') });
/** `GET /readyz` → `{ status: "ready" }` (503 `runtime_unavailable` otherwise). */
export const ReadySchema = v.object({ status: v.literal('ready') });

/** `{ status: "ok" }`. */
export type Health = v.InferOutput<typeof HealthSchema>;
/** `{ status: "ready" }`. */
export type Ready = v.InferOutput<typeof ReadySchema>;

// Event streams (SPEC §12): the `data:` of each message, by its `event:` field.

/** One message of `GET /v1/events/stream` or a run stream: a durable event (`id:` set) or an `output_delta`. */
export const StreamMessageSchema = v.union([RuntimeEventSchema, OutputDeltaSchema]);
/** One message of `POST …/input` with `stream: true`: the `ack` first, then the run's stream messages. */
export const InputStreamMessageSchema = v.union([InputAckSchema, RuntimeEventSchema, OutputDeltaSchema]);
