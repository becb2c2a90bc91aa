import type { EngineResult, EngineRun, Profile, WorkerEngine, WorkerRef } from '@worker-runtime/core';
import * as v from 'valibot';
import { type ChatReply, requestChat } from './chat-completion.js';
import type { ChatMessage } from './chat-messages.js';
import { McpServerPool } from './mcp-pool.js';
import { OpenAIChatProfileSchema, type ParsedOpenAIChatProfile } from './openai-chat-profile.js';
import { redact } from './provider-errors.js';
import type { ChatToolDefinition } from './tool-catalog.js';
import { runToolLoop } from './tool-loop.js';

/** Options of {@link createOpenAIChatEngine}. */
export interface OpenAIChatEngineOptions {
  /** The HTTP client (default: the built-in `fetch`). */
  fetch?: typeof fetch;
  /** Where `api_key_env` is looked up and what MCP servers inherit from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** The tools a profile offers the model, for `/v1/runtime`. */
export interface ProfileToolsDescription {
  /** Model-facing names, `<server>__<tool>`; empty for a profile without `mcp_servers`. */
  tools: string[];
  /** Why the tools could not be listed (a server that cannot start); null when they were. */
  error: string | null;
}

/** The `openai_chat` engine, with what it offers beyond {@link WorkerEngine}. */
export interface OpenAIChatEngine extends WorkerEngine {
  /** `["tools"]` for a profile with `mcp_servers`, else none. */
  profileCapabilities(profile: Readonly<Profile>): string[];
  /**
   * Lists a profile's tool names (starting its MCP servers once if no Worker has; the result is
   * kept). Never throws: a failure is reported in `error`.
   */
  describeProfile(profile: Readonly<Profile>): Promise<ProfileToolsDescription>;
  /** Stops the MCP servers of a Worker. */
  releaseWorker(worker: WorkerRef): Promise<void>;
  /** Stops every MCP server and starts no more. */
  close(): Promise<void>;
}

/**
 * The `openai_chat` engine: sends the Worker's recent transcript to an OpenAI-compatible
 * `/chat/completions` endpoint (OpenAI, Ollama, vLLM, llama.cpp server), streams the reply as
 * output deltas, and appends it as one assistant entry once complete. With `mcp_servers` it offers
 * their tools to the model and runs the tool loop (SPEC §16). The API key never appears in errors.
 * Its profiles are checked with {@link OpenAIChatProfileSchema} when the Runtime opens.
 * @throws (from `run`) an Error with the provider's message on HTTP, stream, connection and timeout failures, or naming the MCP
 * server that could not start or died
 * @example
 * const runtime = await Runtime.open({
 *   engines: [createOpenAIChatEngine()],
 *   profiles: { local: { engine: 'openai_chat', base_url: 'http://127.0.0.1:11434/v1', model: 'llama3.2' } },
 * });
 */
export function createOpenAIChatEngine({
  fetch: fetchImpl = globalThis.fetch,
  env = process.env,
}: OpenAIChatEngineOptions = {}): OpenAIChatEngine {
  const servers = new McpServerPool(env);
  return {
    name: 'openai_chat',
    capabilities: [],
    profileSchema: OpenAIChatProfileSchema,
    run: async function runOpenAIChat(run: EngineRun): Promise<EngineResult> {
      // Validated with OpenAIChatProfileSchema when the Runtime opened.
      const profile = run.worker.profile as ParsedOpenAIChatProfile;
      const apiKey = profile.api_key_env === undefined ? undefined : env[profile.api_key_env];
      if (profile.api_key_env !== undefined && !apiKey) {
        throw new Error(`the environment variable named by api_key_env (${profile.api_key_env}) is not set`);
      }
      try {
        const tools = hasServers(profile)
          ? await servers.toolBox(run.worker.ref, profile.mcp_servers, run.signal)
          : null;
        return await runToolLoop({
          run,
          tools,
          max_tool_rounds: profile.max_tool_rounds,
          tool_timeout_ms: profile.tool_timeout_ms,
          max_output_bytes: profile.max_output_bytes,
          max_history_entries: profile.max_history_entries,
          system_prompt: profile.system_prompt,
          turn: (messages, definitions) => chatTurn(run, profile, apiKey, fetchImpl, messages, definitions),
        });
      } catch (error) {
        if (run.signal.aborted) throw run.signal.reason;
        if (apiKey && error instanceof Error && error.message.includes(apiKey)) {
          throw new Error(redact(error.message, apiKey));
        }
        throw error;
      }
    },
    profileCapabilities: (profile) => {
      const parsed = v.safeParse(OpenAIChatProfileSchema, profile);
      return parsed.success && hasServers(parsed.output) ? ['tools'] : [];
    },
    describeProfile: async (profile) => {
      const parsed = v.safeParse(OpenAIChatProfileSchema, profile);
      if (!parsed.success) return { tools: [], error: 'the profile has invalid options' };
      if (!hasServers(parsed.output)) return { tools: [], error: null };
      try {
        return { tools: await servers.describe(parsed.output.mcp_servers), error: null };
      } catch (error) {
        return { tools: [], error: error instanceof Error ? error.message : 'the tools could not be listed' };
      }
    },
    releaseWorker: (worker) => servers.releaseWorker(worker),
    close: () => servers.close(),
  };
}

function hasServers(profile: ParsedOpenAIChatProfile): profile is ParsedOpenAIChatProfile & { mcp_servers: object } {
  return profile.mcp_servers !== undefined && Object.keys(profile.mcp_servers).length > 0;
}

/** One model request of a run: its text streams to the run as output deltas. */
function chatTurn(
  run: EngineRun,
  profile: ParsedOpenAIChatProfile,
  apiKey: string | undefined,
  fetchImpl: typeof fetch,
  messages: ChatMessage[],
  tools: ChatToolDefinition[],
): Promise<ChatReply> {
  const headers = new Headers(profile.headers);
  headers.set('content-type', 'application/json');
  headers.set('accept', 'text/event-stream');
  if (apiKey) headers.set('authorization', `Bearer ${apiKey}`);
  return requestChat(fetchImpl, {
    url: new URL(`${profile.base_url.replace(/\/+$/, '')}/chat/completions`),
    headers,
    body: {
      model: profile.model,
      messages,
      stream: true,
      ...(profile.temperature === undefined ? {} : { temperature: profile.temperature }),
      ...(tools.length === 0 ? {} : { tools }),
    },
    signal: run.signal,
    first_byte_timeout_ms: profile.first_byte_timeout_ms,
    request_timeout_ms: profile.request_timeout_ms,
    max_output_bytes: profile.max_output_bytes,
    onDelta: (content) => run.delta(content),
    onProgress: () => run.progress(),
  });
}
