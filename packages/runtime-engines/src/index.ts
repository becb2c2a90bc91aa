// Engines: command and OpenAI-compatible chat (with MCP tools), for Runtime.open({ engines })

export type { BuiltinEnginesOptions } from './builtin-engines.js';
export { createBuiltinEngines } from './builtin-engines.js';
export type { CommandEngineOptions } from './command-engine.js';
export { createCommandEngine } from './command-engine.js';
// Profile option schemas (valibot) and the types inferred from them
export type { CommandProfile, ParsedCommandProfile } from './command-profile.js';
export { CommandProfileSchema } from './command-profile.js';
export type { McpServerConfig } from './mcp-profile.js';
// What a command inherits from the Runtime's environment
export { INHERITED_ENV_NAMES } from './minimal-env.js';
export type { OpenAIChatEngine, OpenAIChatEngineOptions, ProfileToolsDescription } from './openai-chat-engine.js';
export { createOpenAIChatEngine } from './openai-chat-engine.js';
export type { OpenAIChatProfile, ParsedOpenAIChatProfile } from './openai-chat-profile.js';
export { OpenAIChatProfileSchema } from './openai-chat-profile.js';
