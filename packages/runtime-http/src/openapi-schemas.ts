import { type JsonSchema, toJsonSchema, toJsonSchemaDefs } from '@valibot/to-json-schema';
import {
  ControlAckSchema,
  ControlRequestSchema,
  CreateWorkerRequestSchema,
  DiagnosticSchema,
  ErrorBodySchema,
  EventBatchSchema,
  InputAckSchema,
  InputRequestSchema,
  MetadataSchema,
  RunPageSchema,
  RunRecordSchema,
  RuntimeEventSchema,
  RuntimeSummarySchema,
  TranscriptEntrySchema,
  TranscriptPageSchema,
  WorkerDetailSchema,
  WorkerPageSchema,
  WorkerRefSchema,
  WorkerSummarySchema,
} from '@worker-runtime/core';
import * as v from 'valibot';
import {
  ControlAckEnvelopeSchema,
  DiagnosticsEnvelopeSchema,
  EventsEnvelopeSchema,
  HealthSchema,
  InputAckEnvelopeSchema,
  ReadySchema,
  RunEnvelopeSchema,
  RuntimeEnvelopeSchema,
  TranscriptEnvelopeSchema,
  WorkerEnvelopeSchema,
} from './envelopes.js';

/**
 * The named component schemas of the OpenAPI document: wherever one of these valibot schemas
 * appears, the document says `$ref: '#/components/schemas/<name>'`, so generated clients get
 * `WorkerDetail`, `InputAck`, `Error`, … instead of anonymous inline types.
 */
const COMPONENTS: Record<string, v.GenericSchema> = {
  Error: ErrorBodySchema,
  RuntimeSummary: RuntimeSummarySchema,
  RuntimeEnvelope: RuntimeEnvelopeSchema,
  WorkerRef: WorkerRefSchema,
  WorkerSummary: WorkerSummarySchema,
  WorkerDetail: WorkerDetailSchema,
  WorkerPage: WorkerPageSchema,
  WorkerEnvelope: WorkerEnvelopeSchema,
  Metadata: MetadataSchema,
  CreateWorkerRequest: CreateWorkerRequestSchema,
  InputRequest: InputRequestSchema,
  InputAck: InputAckSchema,
  InputAckEnvelope: InputAckEnvelopeSchema,
  ControlRequest: ControlRequestSchema,
  ControlAck: ControlAckSchema,
  ControlAckEnvelope: ControlAckEnvelopeSchema,
  RunRecord: RunRecordSchema,
  RunPage: RunPageSchema,
  RunEnvelope: RunEnvelopeSchema,
  TranscriptEntry: TranscriptEntrySchema,
  TranscriptPage: TranscriptPageSchema,
  TranscriptEnvelope: TranscriptEnvelopeSchema,
  RuntimeEvent: RuntimeEventSchema,
  EventBatch: EventBatchSchema,
  EventsEnvelope: EventsEnvelopeSchema,
  Diagnostic: DiagnosticSchema,
  DiagnosticsEnvelope: DiagnosticsEnvelopeSchema,
  Health: HealthSchema,
  Ready: ReadySchema,
};

/**
 * The largest entry count `schema` accepts for a map of short strings: a `v.check` is opaque to
 * JSON Schema, so the bound is read from the schema itself rather than written a second time.
 */
function maxEntries(schema: v.GenericSchema, ceiling = 1024): number {
  let count = 0;
  const probe: Record<string, string> = {};
  while (count < ceiling) {
    probe[`k${count}`] = '';
    if (!v.is(schema, probe)) return count;
    count++;
  }
  return ceiling;
}

const METADATA_MAX_PROPERTIES = maxEntries(MetadataSchema);
// The check that bounds metadata's entry count, which becomes `maxProperties`.
const METADATA_CHECK = MetadataSchema.pipe[1];

const CONFIG = {
  target: 'draft-2020-12',
  // Checks and transforms have no JSON Schema form; the Runtime still enforces them.
  errorMode: 'ignore',
  overrideRef: ({ referenceId }: { referenceId: string }) => `#/components/schemas/${referenceId}`,
  overrideAction: ({ valibotAction, jsonSchema }: { valibotAction: unknown; jsonSchema: JsonSchema }) =>
    valibotAction === METADATA_CHECK ? { ...jsonSchema, maxProperties: METADATA_MAX_PROPERTIES } : undefined,
} as const;

function bare(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $defs: _defs, ...rest } = schema as JsonSchema & { $schema?: unknown; $defs?: unknown };
  return rest as JsonSchema;
}

/** `schema` as JSON Schema 2020-12 (what OpenAPI 3.1 uses), named components as `$ref`s. */
export function jsonSchemaOf(schema: v.GenericSchema): JsonSchema {
  return bare(toJsonSchema(schema, { ...CONFIG, definitions: COMPONENTS }));
}

/** `components.schemas` of the document. */
export function componentSchemas(): Record<string, JsonSchema> {
  const defs = toJsonSchemaDefs(COMPONENTS, CONFIG);
  return Object.fromEntries(Object.entries(defs).map(([name, schema]) => [name, bare(schema)]));
}

/** The `$ref` of the error envelope every error response carries. */
export const ERROR_SCHEMA_REF: JsonSchema = { $ref: '#/components/schemas/Error' };
