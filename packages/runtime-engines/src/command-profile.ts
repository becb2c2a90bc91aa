import { PROFILE_COMMON_ENTRIES } from '@worker-runtime/core';
import * as v from 'valibot';
import { EnvNameSchema, MaxOutputBytesSchema, OsStringSchema } from './profile-fields.js';

/** Options of a `command` profile (SPEC §5), with their defaults; unknown keys are rejected. */
export const CommandProfileSchema = v.strictObject({
  engine: v.literal('command'),
  ...PROFILE_COMMON_ENTRIES,
  command: v.pipe(
    v.array(OsStringSchema),
    v.minLength(1, 'must name the program to run: ["program", ...args]'),
    v.check((argv) => (argv[0] ?? '').length > 0, 'must start with a non-empty program name'),
  ),
  input: v.optional(v.picklist(['stdin', 'argument'], 'must be "stdin" or "argument"'), 'stdin'),
  output: v.optional(v.picklist(['text', 'jsonl'], 'must be "text" or "jsonl"'), 'text'),
  cwd: v.optional(v.pipe(OsStringSchema, v.minLength(1, 'must not be empty'))),
  env: v.optional(v.record(EnvNameSchema, OsStringSchema)),
  kill_grace_ms: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0, 'must be at least 0'), v.maxValue(600_000, 'must be at most 600000')),
    2000,
  ),
  max_output_bytes: MaxOutputBytesSchema,
  // jsonl: how long an entry followed by no other output waits for the program to exit (and so to
  // become the run's final entry, committed with its end) before it is appended; 0 (the default:
  // each line is appended as it arrives) never waits.
  last_entry_wait_ms: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0, 'must be at least 0'), v.maxValue(600_000, 'must be at most 600000')),
    0,
  ),
});

/** A `command` profile as a user writes it: `{ engine: 'command', command: ['cat'] }` (defaults optional). */
export type CommandProfile = v.InferInput<typeof CommandProfileSchema>;
/** A validated `command` profile, defaults applied: what the engine reads. */
export type ParsedCommandProfile = v.InferOutput<typeof CommandProfileSchema>;
