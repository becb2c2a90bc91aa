import { type EngineWorker, invalidRequest } from '@worker-runtime/core';
import * as v from 'valibot';
import { CommandProfileSchema } from './command-profile.js';
import { OpenAIChatProfileSchema } from './openai-chat-profile.js';

/** The option schema of each engine this package provides, by engine name. */
const SCHEMAS: Readonly<Record<string, v.GenericSchema>> = {
  command: CommandProfileSchema,
  openai_chat: OpenAIChatProfileSchema,
};

/**
 * Checks a profile against the option schema of `engineName` (`command` or `openai_chat`), so a
 * config file can be rejected before any run. Engines this package does not provide (such as
 * core's `echo`) are not checked here.
 * @throws RuntimeError `invalid_request` with `details.issues` (`[{ path, message }]`)
 */
export function validateProfileOptions(engineName: string, profile: unknown): void {
  const schema = SCHEMAS[engineName];
  if (!schema) return;
  const result = v.safeParse(schema, profile);
  if (!result.success) throw invalidRequest(`options for engine "${engineName}"`, result.issues);
}

/**
 * The options of the profile a run uses, validated at run start.
 * @throws RuntimeError `invalid_request` naming the profile and the offending field
 */
export function parseRunProfile<const TSchema extends v.GenericSchema>(
  schema: TSchema,
  worker: EngineWorker,
): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, worker.profile);
  if (!result.success) throw invalidRequest(`options in profile "${worker.profile_name}"`, result.issues);
  return result.output;
}
