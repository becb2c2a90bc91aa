import { PROFILE_COMMON_ENTRIES } from '@worker-runtime/core';
import * as v from 'valibot';
import { TOOL_PROFILE_ENTRIES } from './mcp-profile.js';
import { EnvNameSchema, MaxOutputBytesSchema } from './profile-fields.js';

// RFC 9110 token characters: what a header name may contain.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// What fetch accepts in a header value: tab, printable ASCII and Latin-1; no control characters.
const HEADER_VALUE = /^[\t\u0020-\u007e\u0080-\u00ff]*$/;

/** A per-request time limit in ms: at least 1, at most one day (a timer's limit is about 24.8 days). */
function timeoutSchema(fallback: number) {
  return v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1, 'must be at least 1'),
      v.maxValue(86_400_000, 'must be at most 86400000'),
    ),
    fallback,
  );
}

/** Options of an `openai_chat` profile (SPEC §5), with their defaults; unknown keys are rejected. */
export const OpenAIChatProfileSchema = v.strictObject({
  engine: v.literal('openai_chat'),
  ...PROFILE_COMMON_ENTRIES,
  base_url: v.pipe(
    v.string(),
    v.url('must be an absolute URL such as "http://127.0.0.1:11434/v1"'),
    v.check((url) => /^https?:\/\//i.test(url), 'must be an http:// or https:// URL'),
    // valibot runs every check of a pipe even after one failed, so each must cope with a non-URL.
    v.check((url) => {
      const parsed = URL.canParse(url) ? new URL(url) : null;
      return !parsed?.username && !parsed?.password;
    }, 'must not contain credentials (use api_key_env or headers)'),
    v.check((url) => {
      const parsed = URL.canParse(url) ? new URL(url) : null;
      return !parsed?.search && !parsed?.hash;
    }, 'must not have a query or fragment'),
  ),
  model: v.pipe(v.string(), v.minLength(1, 'must not be empty')),
  api_key_env: v.optional(EnvNameSchema),
  system_prompt: v.optional(v.string()),
  max_history_entries: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1, 'must be at least 1'), v.maxValue(1000, 'must be at most 1000')),
    50,
  ),
  temperature: v.optional(v.pipe(v.number(), v.minValue(0, 'must be at least 0'), v.maxValue(2, 'must be at most 2'))),
  headers: v.optional(
    v.record(
      v.pipe(v.string(), v.regex(HEADER_NAME, 'must be a valid HTTP header name')),
      v.pipe(v.string(), v.regex(HEADER_VALUE, 'must contain only printable ASCII or Latin-1 characters')),
    ),
  ),
  max_output_bytes: MaxOutputBytesSchema,
  first_byte_timeout_ms: timeoutSchema(120_000),
  request_timeout_ms: timeoutSchema(600_000),
  ...TOOL_PROFILE_ENTRIES,
});

/** An `openai_chat` profile as a user writes it (defaults optional). */
export type OpenAIChatProfile = v.InferInput<typeof OpenAIChatProfileSchema>;
/** A validated `openai_chat` profile, defaults applied: what the engine reads. */
export type ParsedOpenAIChatProfile = v.InferOutput<typeof OpenAIChatProfileSchema>;
