import type { TranscriptEntry } from '@worker-runtime/core';

/** One message of an OpenAI-compatible `messages` array. */
export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ChatMessageToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** An assistant message's tool call, in the chat completions shape. */
export interface ChatMessageToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** What the model is told for a call whose result never came (the run ended mid-call). */
export const MISSING_RESULT = 'no result: the run ended before this tool call completed';

/**
 * The `messages` of a chat request: the system prompt first, then the transcript oldest first.
 * `user`, `assistant` and `system` entries keep their role; an assistant entry's `tool_calls` and
 * the `tool` entries answering them become `tool_calls` and `tool` messages (an `is_error` result
 * starts with `Error: `). The chat API requires every call to be answered right after it, so a
 * call without a result (its run was cancelled or interrupted) gets {@link MISSING_RESULT}, and a
 * `tool` entry that answers no call in the window (a `command` engine's tool line, or a result
 * whose call fell out of `max_history_entries`) becomes a `system` message prefixed `Tool output:`.
 * The run's own input is included once, where its run starts (at the end when no entry of the run
 * is in the window).
 */
export function toChatMessages(
  history: readonly TranscriptEntry[],
  run: { input: string; run_id: string; system_prompt?: string | undefined },
): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (run.system_prompt) messages.push({ role: 'system', content: run.system_prompt });
  let unanswered: string[] = [];
  const answerRest = (): void => {
    for (const id of unanswered) messages.push({ role: 'tool', tool_call_id: id, content: MISSING_RESULT });
    unanswered = [];
  };
  // The input goes where the run starts; a long tool loop may have pushed its user entry out.
  let input = !history.some((entry) => entry.run_id === run.run_id && entry.role === 'user');
  for (const entry of history) {
    if (input && entry.run_id === run.run_id) {
      answerRest();
      messages.push({ role: 'user', content: run.input });
      input = false;
    }
    if (entry.role === 'tool' && entry.tool_call_id !== undefined && unanswered.includes(entry.tool_call_id)) {
      const id = entry.tool_call_id;
      unanswered = unanswered.filter((other) => other !== id);
      messages.push({
        role: 'tool',
        tool_call_id: id,
        content: entry.is_error ? `Error: ${entry.content}` : entry.content,
      });
      continue;
    }
    answerRest();
    if (entry.role === 'tool') {
      messages.push({ role: 'system', content: `Tool output:\n${entry.content}` });
    } else if (entry.role === 'assistant' && entry.tool_calls && entry.tool_calls.length > 0) {
      messages.push({
        role: 'assistant',
        content: entry.content === '' ? null : entry.content,
        tool_calls: entry.tool_calls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        })),
      });
      unanswered = entry.tool_calls.map((call) => call.id);
    } else {
      messages.push({ role: entry.role, content: entry.content });
    }
  }
  answerRest();
  if (input) messages.push({ role: 'user', content: run.input });
  return messages;
}
