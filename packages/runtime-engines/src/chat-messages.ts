import type { TranscriptEntry } from '@worker-runtime/core';

/** One message of an OpenAI-compatible `messages` array. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * The `messages` of a chat request: the system prompt first, then the transcript oldest first.
 * `user`, `assistant` and `system` entries keep their role. A `tool` entry becomes a `system`
 * message prefixed `Tool output:` because a chat `tool` message must answer an assistant
 * `tool_calls` id, which a transcript does not record. The run's own input is always last.
 */
export function toChatMessages(
  history: readonly TranscriptEntry[],
  run: { input: string; run_id: string; system_prompt?: string | undefined },
): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (run.system_prompt) messages.push({ role: 'system', content: run.system_prompt });
  for (const entry of history) {
    messages.push(
      entry.role === 'tool'
        ? { role: 'system', content: `Tool output:\n${entry.content}` }
        : { role: entry.role, content: entry.content },
    );
  }
  const last = history[history.length - 1];
  if (!(last && last.role === 'user' && last.run_id === run.run_id)) {
    messages.push({ role: 'user', content: run.input });
  }
  return messages;
}
