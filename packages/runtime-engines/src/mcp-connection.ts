import { stat } from 'node:fs/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  type CallToolResult,
  ErrorCode,
  McpError,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from './mcp-profile.js';
import { GroupStdioTransport, type ServerExit } from './mcp-stdio-transport.js';
import { minimalEnv } from './minimal-env.js';

/** At most this many `tools/list` pages are read from one server (a server that pages forever). */
const MAX_TOOL_PAGES = 100;

/** How one tool call runs. */
export interface ToolCallOptions {
  signal: AbortSignal;
  timeoutMs: number;
  /** Called on each MCP progress notification the server sends for the call. */
  onProgress: () => void;
}

/** A call that could not be made or did not finish, which the model is told about; the run goes on. */
export class ToolCallError extends Error {
  override readonly name = 'ToolCallError';
}

/**
 * One running MCP server (stdio) and the SDK client talking to it. Failures of the server itself
 * (it cannot start, it exits, it breaks the protocol) throw plain Errors that name the server but
 * never a path or an environment value; failures of one call throw {@link ToolCallError}.
 */
export class McpConnection {
  readonly server: string;
  readonly #client: Client;
  readonly #transport: GroupStdioTransport;
  #tools: Tool[] | undefined;
  #closing: Promise<void> | undefined;

  private constructor(server: string, client: Client, transport: GroupStdioTransport) {
    this.server = server;
    this.#client = client;
    this.#transport = transport;
  }

  /**
   * Starts the server and completes the MCP handshake within `timeoutMs`.
   * @throws Error `MCP server "<name>" could not be started: <reason>`; the abort reason
   */
  static async open(
    server: string,
    config: McpServerConfig,
    parentEnv: NodeJS.ProcessEnv,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<McpConnection> {
    const failed = (reason: string): Error => new Error(`MCP server "${server}" could not be started: ${reason}`);
    if (config.cwd !== undefined && !(await stat(config.cwd).catch(() => null))?.isDirectory()) {
      throw failed('its "cwd" does not exist or is not a directory');
    }
    const transport = new GroupStdioTransport({
      argv: config.command,
      env: minimalEnv(parentEnv, config.env),
      cwd: config.cwd,
    });
    const client = new Client({ name: 'worker-runtime', version: '1' }, { capabilities: {} });
    const connection = new McpConnection(server, client, transport);
    try {
      await client.connect(transport, { timeout: timeoutMs, ...(signal ? { signal } : {}) });
    } catch (error) {
      await connection.close();
      signal?.throwIfAborted();
      if (transport.pid === undefined) throw failed((error as Error).message);
      const exit = transport.exit;
      if (exit) throw failed(`it ${exitWords(exit)} during the MCP handshake`);
      if (isMcpError(error, ErrorCode.RequestTimeout)) {
        throw failed(`it did not complete the MCP handshake within ${timeoutMs} ms`);
      }
      throw failed('it did not complete the MCP handshake (is it an MCP stdio server?)');
    }
    // A server whose tools change tells us; the next run lists them again.
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      connection.#tools = undefined;
    });
    return connection;
  }

  /** False once the server exited or the connection was closed: it must be started again. */
  get alive(): boolean {
    return this.#closing === undefined && this.#transport.exit === undefined;
  }

  /**
   * The server's tools (every page), cached until it reports a change.
   * @throws Error when the server died or does not answer within `timeoutMs`
   */
  async listTools(timeoutMs: number, signal?: AbortSignal): Promise<Tool[]> {
    if (this.#tools) return this.#tools;
    const tools: Tool[] = [];
    let cursor: string | undefined;
    try {
      for (let page = 0; page < MAX_TOOL_PAGES; page += 1) {
        const result = await this.#client.listTools(cursor === undefined ? {} : { cursor }, {
          timeout: timeoutMs,
          ...(signal ? { signal } : {}),
        });
        tools.push(...result.tools);
        cursor = result.nextCursor;
        if (cursor === undefined) break;
      }
    } catch (error) {
      signal?.throwIfAborted();
      if (isMcpError(error, ErrorCode.RequestTimeout)) {
        throw new Error(`MCP server "${this.server}" did not list its tools within ${timeoutMs} ms`);
      }
      throw this.#serverFailure(error, 'listing its tools');
    }
    this.#tools = tools;
    return tools;
  }

  /**
   * Calls one tool; a result with `isError` is returned as is.
   * @throws ToolCallError for a call the server refused or did not answer in time (the model sees it);
   *   a plain Error when the server died; the abort reason when `signal` aborted
   */
  async callTool(tool: string, args: Record<string, unknown>, options: ToolCallOptions): Promise<CallToolResult> {
    const { signal, timeoutMs, onProgress } = options;
    try {
      // The SDK sends `notifications/cancelled` to the server when the signal aborts or time runs out;
      // `timeout` bounds the whole call, progress notifications do not extend it.
      return (await this.#client.callTool({ name: tool, arguments: args }, undefined, {
        signal,
        timeout: timeoutMs,
        onprogress: () => onProgress(),
      })) as CallToolResult;
    } catch (error) {
      signal.throwIfAborted();
      if (!this.alive) throw this.#serverFailure(error, `running tool "${tool}"`);
      if (isMcpError(error, ErrorCode.RequestTimeout)) {
        throw new ToolCallError(`the tool did not answer within tool_timeout_ms (${timeoutMs} ms) and was cancelled`);
      }
      throw new ToolCallError(error instanceof Error ? error.message : 'the tool call failed');
    }
  }

  #serverFailure(error: unknown, during: string): Error {
    const exit = this.#transport.exit;
    if (exit) return new Error(`MCP server "${this.server}" ${exitWords(exit)} while ${during}`);
    if (this.#closing) return new Error(`MCP server "${this.server}" was stopped while ${during}`);
    const detail = error instanceof McpError ? `: ${error.message}` : '';
    return new Error(`MCP server "${this.server}" failed while ${during}${detail}`);
  }

  /** Stops the server and everything it started (its whole process group). Idempotent. */
  close(): Promise<void> {
    // The client closes the transport too; both share the transport's one stop.
    this.#closing ??= this.#client
      .close()
      .catch(() => undefined)
      .then(() => this.#transport.close());
    return this.#closing;
  }
}

function exitWords(exit: ServerExit): string {
  return exit.signal ? `was terminated by signal ${exit.signal}` : `exited with status ${exit.code}`;
}

function isMcpError(error: unknown, code: ErrorCode): boolean {
  return error instanceof McpError && error.code === code;
}
