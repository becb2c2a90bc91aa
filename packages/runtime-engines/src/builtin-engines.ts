import type { WorkerEngine } from '@worker-runtime/core';
import { createCommandEngine } from './command-engine.js';
import { createOpenAIChatEngine } from './openai-chat-engine.js';

/** Options of {@link createBuiltinEngines}. */
export interface BuiltinEnginesOptions {
  /** The environment commands inherit from and API keys are read from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** The HTTP client of `openai_chat` (default: the built-in `fetch`). */
  fetch?: typeof fetch;
}

/**
 * The engines this package provides, `command` and `openai_chat`, ready for `Runtime.open({ engines })`
 * (core adds `echo` itself).
 * @example
 * const runtime = await Runtime.open({ engines: createBuiltinEngines(), profiles, default_profile: 'local' });
 */
export function createBuiltinEngines({ env = process.env, fetch }: BuiltinEnginesOptions = {}): WorkerEngine[] {
  return [createCommandEngine({ env }), createOpenAIChatEngine(fetch === undefined ? { env } : { env, fetch })];
}
