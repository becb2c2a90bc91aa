import type { ToolCall } from '@worker-runtime/core';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { linkedController } from './abort-link.js';
import { httpFailureMessage, networkFailureReason, providerMessage, readTextCapped } from './provider-errors.js';

/** One model turn: its text, the tools it asked for, and why it stopped. */
export interface ChatReply {
  content: string;
  tool_calls: ToolCall[];
  finish_reason: string | null;
}

/** One `POST /chat/completions` and how long it may take. */
export interface ChatRequest {
  url: URL;
  headers: Headers;
  body: Record<string, unknown>;
  /** The run's signal: cancel, stop, run timeouts and close. */
  signal: AbortSignal;
  /** Until the response headers arrive. */
  first_byte_timeout_ms: number;
  /** Until the whole reply has arrived. */
  request_timeout_ms: number;
  max_output_bytes: number;
  /** Each streamed piece of text, as it arrives. */
  onDelta: (content: string) => void;
  /** Every stream event, text or not (keeps an idle timeout from firing while tool calls stream). */
  onProgress: () => void;
}

/** An event-stream line or event longer than this is a broken server, not a reply. */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;
/** More parallel calls than this in one turn is a broken server. */
const MAX_TOOL_CALLS = 128;

/**
 * Sends one chat request and reads the reply, streamed (`text/event-stream`) or whole (JSON).
 * @throws Error with the provider's message on HTTP, stream, connection and timeout failures; the
 *   run's abort reason when it was aborted
 */
export async function requestChat(fetchImpl: typeof fetch, request: ChatRequest): Promise<ChatReply> {
  // One controller for the fetch: the run aborts it, and so do the two timers (with their reason).
  const { controller, unlink } = linkedController(request.signal);
  let timedOut: Error | undefined;
  const expire = (message: string) => () => {
    timedOut = new Error(message);
    controller.abort(timedOut);
  };
  const firstByte = setTimeout(
    expire(`the provider did not answer within first_byte_timeout_ms (${request.first_byte_timeout_ms} ms)`),
    request.first_byte_timeout_ms,
  );
  const whole = setTimeout(
    expire(`the provider's reply did not complete within request_timeout_ms (${request.request_timeout_ms} ms)`),
    request.request_timeout_ms,
  );
  try {
    let response: Response;
    try {
      response = await fetchImpl(request.url, {
        method: 'POST',
        headers: request.headers,
        body: JSON.stringify(request.body),
        // Never follow a redirect: it could carry the conversation and the key to another host.
        redirect: 'error',
        signal: controller.signal,
      });
    } catch (error) {
      throw failure(
        request.signal,
        timedOut,
        `could not reach the provider at ${request.url.host}: ${networkFailureReason(error)}`,
      );
    }
    clearTimeout(firstByte);
    try {
      return await readReply(response, request);
    } catch (error) {
      throw failure(request.signal, timedOut, (error as Error).message);
    }
  } finally {
    clearTimeout(firstByte);
    clearTimeout(whole);
    unlink();
  }
}

/** The run's abort reason wins, then a timeout, then what went wrong. */
function failure(run: AbortSignal, timedOut: Error | undefined, message: string): unknown {
  if (run.aborted) return run.reason;
  return timedOut ?? new Error(message);
}

async function readReply(response: Response, request: ChatRequest): Promise<ChatReply> {
  if (!response.ok) throw new Error(await httpFailureMessage(response));
  // A server that ignores `stream: true` answers one JSON completion instead of events.
  const type = (response.headers.get('content-type') ?? '').toLowerCase();
  if (type.includes('application/json')) return readCompletion(response, request.max_output_bytes);
  if (type === '' || type.includes('text/event-stream')) return readStream(response, request);
  await response.body?.cancel().catch(() => undefined);
  const shown = type.split(';')[0]?.trim();
  throw new Error(`the provider answered ${shown}, not an event stream (is base_url the API root?)`);
}

/** Accumulates the streamed chunks of one reply until `[DONE]`. */
class StreamedReply {
  content = '';
  finish_reason: string | null = null;
  done = false;
  readonly #calls: { id: string; name: string; arguments: string }[] = [];
  #bytes = 0;
  readonly #request: ChatRequest;

  constructor(request: ChatRequest) {
    this.#request = request;
  }

  add(event: EventSourceMessage): void {
    if (this.done) return;
    this.#request.onProgress();
    if (event.data === '[DONE]') {
      this.done = true;
      return;
    }
    const choice = parseChunk(event.data);
    const content = choice?.delta?.content;
    if (typeof content === 'string' && content !== '') {
      this.#count(content);
      this.content += content;
      this.#request.onDelta(content);
    }
    for (const piece of Array.isArray(choice?.delta?.tool_calls) ? choice.delta.tool_calls : []) this.#addCall(piece);
    if (typeof choice?.finish_reason === 'string') this.finish_reason = choice.finish_reason;
  }

  /** A tool call arrives in pieces keyed by `index`: the id and name first, the arguments in parts. */
  #addCall(piece: StreamToolCall): void {
    const index = typeof piece?.index === 'number' ? piece.index : this.#calls.length;
    if (!Number.isInteger(index) || index < 0 || index >= MAX_TOOL_CALLS) {
      throw new Error('the provider sent a malformed stream: a tool call index is out of range');
    }
    const call = this.#calls[index] ?? { id: '', name: '', arguments: '' };
    this.#calls[index] = call;
    if (typeof piece?.id === 'string' && piece.id) call.id = piece.id;
    const name = piece?.function?.name;
    const args = piece?.function?.arguments;
    if (typeof name === 'string') call.name += name;
    if (typeof args === 'string') {
      this.#count(args);
      call.arguments += args;
    }
  }

  #count(text: string): void {
    this.#bytes += Buffer.byteLength(text);
    const max = this.#request.max_output_bytes;
    if (this.#bytes > max) throw new Error(`the reply exceeded max_output_bytes (${max} bytes)`);
  }

  get tool_calls(): ToolCall[] {
    return this.#calls.filter((call) => call !== undefined);
  }
}

interface StreamToolCall {
  index?: unknown;
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

interface StreamChoice {
  delta?: { content?: unknown; tool_calls?: StreamToolCall[] };
  finish_reason?: unknown;
}

async function readStream(response: Response, request: ChatRequest): Promise<ChatReply> {
  if (!response.body) throw new Error('the provider answered without a body');
  const reply = new StreamedReply(request);
  let broken: Error | undefined;
  const parser = createParser({
    maxBufferSize: MAX_EVENT_CHARS,
    onEvent: (event) => {
      if (broken) return;
      try {
        reply.add(event);
      } catch (error) {
        broken = error as Error;
      }
    },
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') broken ??= new Error('the provider sent a malformed stream');
    },
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  try {
    while (!broken && !reply.done) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch {
        throw new Error('the connection to the provider was lost mid-stream');
      }
      if (next.done) break;
      parser.feed(decoder.decode(next.value, { stream: true }));
    }
    // A last event without its blank line still counts.
    if (!broken && !reply.done) parser.feed(`${decoder.decode()}\n\n`);
  } finally {
    // Stopping early (an error, a malformed event, an abort) must release the connection.
    await reader.cancel().catch(() => undefined);
  }
  if (broken) throw broken;
  // Some servers end the stream after the final chunk without `[DONE]`; anything shorter is cut off.
  if (!reply.done && reply.finish_reason === null) {
    throw new Error('the provider ended the stream before the reply was complete');
  }
  return complete(reply.content, withIds(reply.tool_calls), reply.finish_reason);
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

interface CompletionChoice {
  message?: {
    content?: unknown;
    tool_calls?: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }[];
  };
  finish_reason?: unknown;
}

/** `choices[0].message` of a non-streamed completion. */
async function readCompletion(response: Response, maxBytes: number): Promise<ChatReply> {
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
  const choice = (completion as { choices?: CompletionChoice[] }).choices?.[0];
  const content = choice?.message?.content;
  const calls = Array.isArray(choice?.message?.tool_calls) ? choice.message.tool_calls : [];
  if (typeof content !== 'string' && calls.length === 0) {
    throw new Error(message ? `the provider reported an error: ${message}` : 'the provider sent a malformed reply');
  }
  const toolCalls = calls.map((call) => ({
    id: typeof call?.id === 'string' ? call.id : '',
    name: typeof call?.function?.name === 'string' ? call.function.name : '',
    arguments: typeof call?.function?.arguments === 'string' ? call.function.arguments : '',
  }));
  const reply = typeof content === 'string' ? content : '';
  const size = Buffer.byteLength(reply) + toolCalls.reduce((sum, call) => sum + Buffer.byteLength(call.arguments), 0);
  if (size > maxBytes) throw new Error(`the reply exceeded max_output_bytes (${maxBytes} bytes)`);
  return complete(reply, withIds(toolCalls), typeof choice?.finish_reason === 'string' ? choice.finish_reason : null);
}

/** Servers that omit tool call ids get generated ones, so each result can answer its call. */
function withIds(calls: ToolCall[]): ToolCall[] {
  return calls.map((call, index) => (call.id ? call : { ...call, id: `call_${index}_${Date.now().toString(36)}` }));
}

function complete(content: string, tool_calls: ToolCall[], finish_reason: string | null): ChatReply {
  if (content === '' && tool_calls.length === 0) {
    throw new Error(`the provider returned an empty reply${finish_reason ? ` (finish_reason: ${finish_reason})` : ''}`);
  }
  return { content, tool_calls, finish_reason };
}
