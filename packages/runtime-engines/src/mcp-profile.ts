import * as v from 'valibot';
import { EnvNameSchema, OsStringSchema } from './profile-fields.js';

/**
 * A server name: what the model sees before `__` in a tool name, so only characters OpenAI allows
 * in a function name, and no `__` (it would make `<server>__<tool>` ambiguous).
 */
const SERVER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]|_(?!_))*$/;

/** One MCP server of a profile, started over stdio (SPEC §16). */
export const McpServerSchema = v.strictObject({
  command: v.pipe(
    v.array(OsStringSchema),
    v.minLength(1, 'must name the program to run: ["program", ...args]'),
    v.check((argv) => (argv[0] ?? '').length > 0, 'must start with a non-empty program name'),
  ),
  env: v.optional(v.record(EnvNameSchema, OsStringSchema)),
  cwd: v.optional(v.pipe(OsStringSchema, v.minLength(1, 'must not be empty'))),
});

/** A validated MCP server entry. */
export type McpServerConfig = v.InferOutput<typeof McpServerSchema>;

/** The tool options an `openai_chat` profile adds (SPEC §16), to spread into its schema's entries. */
export const TOOL_PROFILE_ENTRIES = {
  mcp_servers: v.optional(
    v.pipe(
      v.record(
        v.pipe(
          v.string(),
          v.maxLength(32, 'server names must be at most 32 characters'),
          v.regex(SERVER_NAME, 'server names may hold letters, digits, "-" and single "_" only'),
        ),
        McpServerSchema,
      ),
      v.check((servers) => Object.keys(servers).length <= 32, 'must name at most 32 servers'),
    ),
  ),
  max_tool_rounds: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1, 'must be at least 1'), v.maxValue(100, 'must be at most 100')),
    8,
  ),
  tool_timeout_ms: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1, 'must be at least 1'),
      v.maxValue(3_600_000, 'must be at most 3600000 (one hour)'),
    ),
    60_000,
  ),
};
