import type { EngineRun, WorkerEngine } from '@worker-runtime/core';
import { toChatMessages } from './chat-messages.js';
import { OpenAIChatProfileSchema, type ParsedOpenAIChatProfile } from './openai-chat-profile.js';
import {
  httpFailureMessage,
  networkFailureReason,
  providerMessage,
  readTextCapped,
  redact,
} from './provider-errors.js';
import { readSseData, SseLineTooLongError } from './sse-reader.js';

/** Options of {@link createOpenAIChatEngine}. */
export interface OpenAIChatEngineOptions {
  /** The HTTP client (default: the built-in `fetch`). */
  fetch?: typeof fetch;
  /** Where `api_key_env` is looked up (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The `openai_chat` engine: sends the Worker's recent transcript to an OpenAI-compatible
 * `/chat/completions` endpoint (OpenAI, Ollama, vLLM, llama.cpp server), streams the reply, and
 * appends it as one assistant entry once the stream completed. The API key never appears in errors.
 * Its profiles are checked with {@link OpenAIChatProfileSchema} when the Runtime opens.
 * @throws (from `run`) an Error with the provider's message on HTTP, stream or connection failures
 * @example
 * const runtime = await Runtime.open({
 *   engines: [createOpenAIChatEngine()],
 *   profiles: { local: { engine: 'openai_chat', base_url: 'http://127.0.0.1:11434/v1', model: 'llama3.2' } },
 * });
 */
export function createOpenAIChatEngine({
  fetch: fetchImpl = globalThis.fetch,
  env = process.env,
}: OpenAIChatEngineOptions = {}): WorkerEngine {
  return {
    name: 'openai_chat',
    capabilities: [],
    profileSchema: OpenAIChatProfileSchema,
    run: async function runOpenAIChat(run: EngineRun): Promise<void> {
      // Parsed with OpenAIChatProfileSchema (defaults applied) when the Runtime opened.
      const profile = run.worker.profile as ParsedOpenAIChatProfile;
      const apiKey = profile.api_key_env === undefined ? undefined : env[profile.api_key_env];
      if (profile.api_key_env !== undefined && !apiKey) {
        throw new Error(`the environment variable named by api_key_env (${profile.api_key_env}) is not set`);
      }
      try {
        const reply = await chat(run, profile, apiKey, fetchImpl);
        // Aborted while the reply was finishing: the run is fenced, and a partial reply is never kept.
        run.signal.throwIfAborted();
        await run.append({ role: 'assistant', content: reply });
      } catch (error) {
        if (run.signal.aborted) throw run.signal.reason;
        if (apiKey && error instanceof Error && error.message.includes(apiKey)) {
          throw new Error(redact(error.message, apiKey));
        }
        throw error;
      }
    },
  };
}

async function chat(
  run: EngineRun,
  profile: ParsedOpenAIChatProfile,
  apiKey: string | undefined,
  fetchImpl: typeof fetch,
): Promise<string> {
  const history = await run.history(profile.max_history_entries);
  const messages = toChatMessages(history, {
    input: run.input,
    run_id: run.run_id,
    system_prompt: profile.system_prompt,
  });
  const headers = new Headers(profile.headers);
  headers.set('content-type', 'application/json');
  headers.set('accept', 'text/event-stream');
  if (apiKey) headers.set('authorization', `Bearer ${apiKey}`);
  const url = new URL(`${profile.base_url.replace(/\/+$/, '')}/chat/completions`);
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: profile.model,
        messages,
        stream: true,
        ...(profile.temperature === undefined ? {} : { temperature: profile.temperature }),
      }),
      // Never follow a redirect: it could carry the conversation and the key to another host.
      redirect: 'error',
      signal: run.signal,
    });
  } catch (error) {
    run.signal.throwIfAborted();
    throw new Error(`could not reach the provider at ${url.host}: ${networkFailureReason(error)}`);
  }
  if (!response.ok) throw new Error(await httpFailureMessage(response));
  // A server that ignores `stream: true` answers one JSON completion instead of events.
  const type = (response.headers.get('content-type') ?? '').toLowerCase();
  if (type.includes('application/json')) return readCompletion(response, profile.max_output_bytes);
  if (type === '' || type.includes('text/event-stream'))
    return readStream(response, profile.max_output_bytes, () => run.progress());
  await response.body?.cancel().catch(() => undefined);
  const shown = type.split(';')[0]?.trim();
  throw new Error(`the provider answered ${shown}, not an event stream (is base_url the API root?)`);
}

/**
 * Assembles `choices[0].delta.content` of every streamed chunk until `[DONE]`, reporting each chunk
 * as progress so an idle timeout measures silence, not the whole reply.
 */
async function readStream(response: Response, maxBytes: number, onProgress: () => void): Promise<string> {
  if (!response.body) throw new Error('the provider answered without a body');
  const events = readSseData(response.body);
  let reply = '';
  let bytes = 0;
  let finishReason: string | null = null;
  try {
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await events.next();
      } catch (error) {
        if (error instanceof SseLineTooLongError) throw new Error('the provider sent a malformed stream');
        throw new Error('the connection to the provider was lost mid-stream');
      }
      if (next.done) break;
      onProgress();
      if (next.value === '[DONE]') return completeReply(reply, finishReason);
      const choice = parseChunk(next.value);
      const content = choice?.delta?.content;
      if (typeof content === 'string') {
        bytes += Buffer.byteLength(content);
        if (bytes > maxBytes) throw new Error(`the reply exceeded max_output_bytes (${maxBytes} bytes)`);
        reply += content;
      }
      if (typeof choice?.finish_reason === 'string') finishReason = choice.finish_reason;
    }
  } finally {
    await events.return(undefined);
  }
  // Some servers end the stream after the final chunk without `[DONE]`; anything shorter is cut off.
  if (finishReason === null) throw new Error('the provider ended the stream before the reply was complete');
  return completeReply(reply, finishReason);
}

interface StreamChoice {
  delta?: { content?: unknown };
  finish_reason?: unknown;
}

/** The first choice of one stream chunk. @throws Error for a provider error or a malformed chunk */
function parseChunk(data: string): StreamChoice | undefined {
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    throw new Error('the provider sent a malformed stream: an event is not JSON');
  }
  if (typeof chunk !== 'object' || chunk === null) {
    throw new Error('the provider sent a malformed stream: an event is not a JSON object');
  }
  const error = (chunk as { error?: unknown }).error;
  if (error !== undefined && error !== null) {
    throw new Error(`the provider reported an error mid-stream: ${providerMessage(chunk) ?? 'unknown error'}`);
  }
  const choices = (chunk as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) throw new Error('the provider sent a malformed stream: a chunk has no choices');
  return choices[0] as StreamChoice | undefined;
}

/** `choices[0].message.content` of a non-streamed completion. */
async function readCompletion(response: Response, maxBytes: number): Promise<string> {
  const text = await readTextCapped(response, maxBytes + 64 * 1024).catch(() => {
    throw new Error('the connection to the provider was lost while reading the reply');
  });
  let completion: unknown;
  try {
    completion = JSON.parse(text);
  } catch {
    throw new Error('the provider sent a malformed reply: not JSON');
  }
  const message = providerMessage(completion);
  const choice = (completion as { choices?: { message?: { content?: unknown }; finish_reason?: unknown }[] })
    .choices?.[0];
  const content = choice?.message?.content;
  if (typeof content !== 'string') {
    throw new Error(message ? `the provider reported an error: ${message}` : 'the provider sent a malformed reply');
  }
  if (Buffer.byteLength(content) > maxBytes) {
    throw new Error(`the reply exceeded max_output_bytes (${maxBytes} bytes)`);
  }
  return completeReply(content, typeof choice?.finish_reason === 'string' ? choice.finish_reason : null);
}

function completeReply(reply: string, finishReason: string | null): string {
  if (reply === '') {
    throw new Error(`the provider returned an empty reply${finishReason ? ` (finish_reason: ${finishReason})` : ''}`);
  }
  return reply;
}
