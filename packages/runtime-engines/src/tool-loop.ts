import type { EngineResult, EngineRun, ToolCall } from '@worker-runtime/core';
import { linkedController } from './abort-link.js';
import type { ChatReply } from './chat-completion.js';
import { type ChatMessage, toChatMessages } from './chat-messages.js';
import type { ToolBox } from './tool-box.js';
import type { ChatToolDefinition } from './tool-catalog.js';

/** What one run of the tool loop needs. */
export interface ToolLoop {
  run: EngineRun;
  /** The run's tools; null when the profile has no MCP servers. */
  tools: ToolBox | null;
  max_tool_rounds: number;
  tool_timeout_ms: number;
  max_output_bytes: number;
  max_history_entries: number;
  system_prompt: string | undefined;
  /** One model request. */
  turn(messages: ChatMessage[], tools: ChatToolDefinition[]): Promise<ChatReply>;
}

/**
 * model → tool calls → results → model, until a reply without tool calls (returned as the run's
 * final entry, which core commits with the run's completion). Each turn reads the history again, so
 * what the model sees is exactly the durable transcript: the assistant entry carrying the calls is
 * appended before they run, and each result as soon as its call ends (parallel calls run at once).
 * @throws Error when the model still asks for tools after `max_tool_rounds` rounds, or a server died
 */
export async function runToolLoop(loop: ToolLoop): Promise<EngineResult> {
  const { run } = loop;
  for (let round = 0; ; round += 1) {
    const history = await run.history(loop.max_history_entries);
    const messages = toChatMessages(history, {
      input: run.input,
      run_id: run.run_id,
      system_prompt: loop.system_prompt,
    });
    const reply = await loop.turn(messages, loop.tools?.definitions ?? []);
    // Aborted while the reply was finishing: the run is fenced, and a partial reply is never kept.
    run.signal.throwIfAborted();
    if (reply.tool_calls.length === 0) return { final: { role: 'assistant', content: reply.content } };
    if (!loop.tools) throw new Error('the model asked to call tools, but this profile has no mcp_servers');
    if (round >= loop.max_tool_rounds) {
      throw new Error(
        `the model still asked for tools after max_tool_rounds (${loop.max_tool_rounds}) rounds; the run was stopped`,
      );
    }
    await run.append({ role: 'assistant', content: reply.content, tool_calls: reply.tool_calls });
    await callTools(loop, loop.tools, reply.tool_calls);
  }
}

/** Runs one turn's calls in parallel; a server that dies stops the other calls and fails the run. */
async function callTools(loop: ToolLoop, tools: ToolBox, calls: readonly ToolCall[]): Promise<void> {
  const { run } = loop;
  const { controller: stop, unlink } = linkedController(run.signal);
  const { signal } = stop;
  const pending = calls.map(async (call) => {
    const outcome = await tools.call(call, {
      signal,
      timeoutMs: loop.tool_timeout_ms,
      maxBytes: loop.max_output_bytes,
      // A tool that reports progress is not silent: idle_timeout_ms measures silence.
      onProgress: () => run.progress(),
    });
    signal.throwIfAborted();
    await run.append({
      role: 'tool',
      content: outcome.content,
      tool_call_id: call.id,
      name: call.name,
      ...(outcome.is_error ? { is_error: true } : {}),
    });
  });
  try {
    await Promise.all(pending);
  } catch (error) {
    stop.abort(error);
    await Promise.allSettled(pending);
    run.signal.throwIfAborted();
    throw error;
  } finally {
    unlink();
  }
}
