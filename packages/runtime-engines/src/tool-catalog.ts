import type { Tool } from '@modelcontextprotocol/sdk/types.js';

/** A function tool as the chat completions API takes it. */
export interface ChatToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

/** One MCP tool offered to the model, with the server and tool name it maps back to. */
export interface OfferedTool {
  /** What the model calls it: `<server>__<tool>`. */
  name: string;
  server: string;
  tool: string;
  definition: ChatToolDefinition;
}

/** What OpenAI accepts as a function name. */
const MAX_NAME_LENGTH = 64;
const NOT_NAME_CHAR = /[^A-Za-z0-9_-]/g;

/**
 * The tools of each server as the model sees them, in server order then the server's own order.
 * Names are `<server>__<tool>`; characters a function name may not hold become `_` and the name is
 * cut to 64 characters, and a tool whose name then collides with an earlier one is left out (the
 * model could not tell them apart).
 */
export function offerTools(servers: readonly { server: string; tools: readonly Tool[] }[]): OfferedTool[] {
  const offered = new Map<string, OfferedTool>();
  for (const { server, tools } of servers) {
    for (const tool of tools) {
      const name = `${server}__${tool.name.replace(NOT_NAME_CHAR, '_')}`.slice(0, MAX_NAME_LENGTH);
      if (offered.has(name)) continue;
      const definition: ChatToolDefinition = {
        type: 'function',
        function: {
          name,
          ...(tool.description ? { description: tool.description } : {}),
          parameters: { ...tool.inputSchema },
        },
      };
      offered.set(name, { name, server, tool: tool.name, definition });
    }
  }
  return [...offered.values()];
}
