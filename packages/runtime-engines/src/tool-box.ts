import type { ToolCall } from '@worker-runtime/core';
import { type McpConnection, ToolCallError, type ToolCallOptions } from './mcp-connection.js';
import { type ChatToolDefinition, type OfferedTool, offerTools } from './tool-catalog.js';
import { capText, type ToolOutcome, toolResultText } from './tool-results.js';

/** The tools of one run: what is offered to the model, and how a call of one is carried out. */
export class ToolBox {
  readonly #tools: ReadonlyMap<string, OfferedTool>;
  readonly #connections: ReadonlyMap<string, McpConnection>;

  constructor(connections: readonly McpConnection[], offered: readonly OfferedTool[]) {
    this.#connections = new Map(connections.map((connection) => [connection.server, connection]));
    this.#tools = new Map(offered.map((tool) => [tool.name, tool]));
  }

  /**
   * Lists the tools of every server (in parallel).
   * @throws Error when a server died or does not list its tools in time
   */
  static async list(connections: readonly McpConnection[], timeoutMs: number, signal?: AbortSignal): Promise<ToolBox> {
    const listed = await Promise.all(
      connections.map(async (connection) => ({
        server: connection.server,
        tools: await connection.listTools(timeoutMs, signal),
      })),
    );
    return new ToolBox(connections, offerTools(listed));
  }

  /** The model-facing names, in the order offered. */
  get names(): string[] {
    return [...this.#tools.keys()];
  }

  /** The `tools` of a chat request (empty when no server offers any). */
  get definitions(): ChatToolDefinition[] {
    return [...this.#tools.values()].map((tool) => tool.definition);
  }

  /**
   * Carries out one call. Anything the model can act on (an unknown tool, arguments that are not a
   * JSON object, a tool error, a timeout) becomes an `is_error` outcome.
   * @throws Error when the tool's server died; the abort reason when `signal` aborted
   */
  async call(call: ToolCall, { maxBytes, ...options }: ToolCallOptions & { maxBytes: number }): Promise<ToolOutcome> {
    const tool = this.#tools.get(call.name);
    const connection = tool && this.#connections.get(tool.server);
    if (!tool || !connection) return failure(`there is no tool named "${capText(call.name, 200)}"`);
    const args = parseArguments(call.arguments);
    if (args === null) return failure('the arguments are not a JSON object');
    try {
      const result = await connection.callTool(tool.tool, args, options);
      return { content: toolResultText(result, maxBytes), is_error: result.isError === true };
    } catch (error) {
      if (error instanceof ToolCallError) return failure(capText(error.message, maxBytes));
      throw error;
    }
  }
}

function failure(content: string): ToolOutcome {
  return { content, is_error: true };
}

/** The arguments object; `""` (some models send nothing for a tool without parameters) is `{}`. */
function parseArguments(text: string): Record<string, unknown> | null {
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
