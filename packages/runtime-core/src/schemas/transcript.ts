import * as v from 'valibot';
import { CountSchema, IdSchema, TimestampSchema, WorkerRefSchema } from './common.js';

/** Who wrote a transcript entry. */
export const TranscriptRoleSchema = v.picklist(['user', 'assistant', 'system', 'tool']);
export type TranscriptRole = v.InferOutput<typeof TranscriptRoleSchema>;

/** A tool call a model asked for; `arguments` is the JSON text exactly as the model gave it. */
export const ToolCallSchema = v.object({
  id: v.string(),
  name: v.string(),
  arguments: v.string(),
});
export type ToolCall = v.InferOutput<typeof ToolCallSchema>;

/**
 * The optional fields an entry carries only when used (absent otherwise): an `assistant` entry's
 * `tool_calls`, a `tool` entry's `tool_call_id`, `name` and `is_error` (present only when true).
 */
export const TranscriptEntryExtrasSchema = v.object({
  tool_calls: v.optional(v.array(ToolCallSchema)),
  tool_call_id: v.optional(v.string()),
  name: v.optional(v.string()),
  is_error: v.optional(v.boolean()),
});
export type TranscriptEntryExtras = v.InferOutput<typeof TranscriptEntryExtrasSchema>;

/** One transcript entry; `sequence` is 1, 2, … per worker, dense. */
export const TranscriptEntrySchema = v.object({
  sequence: v.pipe(v.number(), v.integer(), v.minValue(1)),
  worker_ref: WorkerRefSchema,
  role: TranscriptRoleSchema,
  content: v.string(),
  run_id: v.nullable(IdSchema),
  event_id: CountSchema,
  created_at: TimestampSchema,
  ...TranscriptEntryExtrasSchema.entries,
});
export type TranscriptEntry = v.InferOutput<typeof TranscriptEntrySchema>;

/** `transcript` query: `start` is 0-based; `tail=N` means the last N entries. */
export const TranscriptQuerySchema = v.strictObject({
  start: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1, 'must be at least 1'))),
  tail: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1, 'must be at least 1'))),
});
export type TranscriptQuery = v.InferInput<typeof TranscriptQuerySchema>;

/** One page of a transcript; `next_start` is null at the end. */
export const TranscriptPageSchema = v.object({
  worker_ref: WorkerRefSchema,
  start: CountSchema,
  limit: CountSchema,
  total_items: CountSchema,
  items: v.array(TranscriptEntrySchema),
  next_start: v.nullable(CountSchema),
});
export type TranscriptPage = v.InferOutput<typeof TranscriptPageSchema>;
