// Test fixtures for the tool loop: a scripted OpenAI-compatible model server, a small MCP server
// written with the SDK (run as a real child process), and process listings from `ps`.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runtime } from '@worker-runtime/core';
import { afterEach, beforeEach, expect } from 'vitest';

/** One message the model server was sent. */
export interface SeenMessage {
  role: string;
  content: string | null;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

/** One request the model server was sent. */
export interface SeenChatRequest {
  model: string;
  stream: boolean;
  messages: SeenMessage[];
  tools?: { type: string; function: { name: string; description?: string; parameters: Record<string, unknown> } }[];
}

/** What the model answers to one request. */
export interface ScriptedTurn {
  content?: string;
  tool_calls?: { id?: string; name: string; arguments: Record<string, unknown> | string }[];
  /** Answer as an event stream (default) or as one JSON completion. */
  stream?: boolean;
  /** Send the first chunk, then never finish (a model that hangs). */
  stall?: boolean;
}

/**
 * An OpenAI-compatible `/chat/completions` server on 127.0.0.1 that answers each request with the
 * next scripted turn (then `fallback`, if set) and records what it was sent.
 */
export class ScriptedModel {
  readonly requests: SeenChatRequest[] = [];
  fallback: ScriptedTurn | undefined;
  #turns: ScriptedTurn[] = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<ScriptedModel> {
    const server = createServer();
    const model = new ScriptedModel(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        model.requests.push(JSON.parse(Buffer.concat(chunks).toString()));
        const turn = model.#turns.shift() ?? model.fallback;
        if (!turn) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'the test script has no more turns' } }));
          return;
        }
        answer(res, turn, model.requests.length);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return model;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  /** The turns to answer the next requests with, in order. */
  script(...turns: ScriptedTurn[]): void {
    this.#turns.push(...turns);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

function answer(res: ServerResponse, turn: ScriptedTurn, requestNumber: number): void {
  const calls = (turn.tool_calls ?? []).map((call, index) => ({
    id: call.id ?? `call_${requestNumber}_${index}`,
    type: 'function',
    function: {
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
    },
  }));
  const finish = calls.length > 0 ? 'tool_calls' : 'stop';
  if (turn.stream === false) {
    res.writeHead(200, { 'content-type': 'application/json' });
    const message = {
      role: 'assistant',
      content: turn.content ?? null,
      ...(calls.length ? { tool_calls: calls } : {}),
    };
    res.end(JSON.stringify({ choices: [{ index: 0, message, finish_reason: finish }] }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const send = (delta: unknown, finish_reason: string | null = null): void => {
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason }] })}\n\n`);
  };
  send({ role: 'assistant' });
  if (turn.stall) return;
  // Text word by word; each call's id and name first, then its arguments in two pieces.
  for (const word of (turn.content ?? '').split(/(?<= )/)) if (word) send({ content: word });
  calls.forEach((call, index) => {
    send({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name } }] });
    const half = Math.ceil(call.function.arguments.length / 2);
    for (const piece of [call.function.arguments.slice(0, half), call.function.arguments.slice(half)]) {
      send({ tool_calls: [{ index, function: { arguments: piece } }] });
    }
  });
  send({}, finish);
  res.end('data: [DONE]\n\n');
}

const require = createRequire(import.meta.url);

/**
 * A small MCP stdio server on the SDK's low-level `Server`, for error and slow cases. Tools:
 * `echo {text}`, `fail` (an `isError` result), `throw` (a JSON-RPC error), `slow {label, ms,
 * progress_ms?}` (logs `start`/`end`/`cancelled <label>`; honours MCP cancellation; sends a progress
 * notification every `progress_ms` when asked for progress), `exit` (the process exits 3
 * mid-call), `spawn_helper` (starts `sleep` in the server's group; logs `helper <pid>`). It logs
 * `pid <pid>` at start, all to the file in `$TOOL_LOG`.
 */
const TEST_SERVER = `
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const { Server } = require(${JSON.stringify(require.resolve('@modelcontextprotocol/sdk/server/index.js'))});
const { StdioServerTransport } = require(${JSON.stringify(require.resolve('@modelcontextprotocol/sdk/server/stdio.js'))});
const { ListToolsRequestSchema, CallToolRequestSchema } = require(${JSON.stringify(require.resolve('@modelcontextprotocol/sdk/types.js'))});
const log = (line) => fs.appendFileSync(process.env.TOOL_LOG, line + '\\n');
const text = (value) => ({ content: [{ type: 'text', text: value }] });
const object = (properties = {}) => ({ type: 'object', properties });
const tools = [
  { name: 'echo', description: 'Echoes its text', inputSchema: { ...object({ text: { type: 'string' } }), required: ['text'] } },
  { name: 'fail', description: 'Always fails', inputSchema: object() },
  { name: 'throw', description: 'Answers with a protocol error', inputSchema: object() },
  { name: 'slow', description: 'Sleeps', inputSchema: object({ label: { type: 'string' }, ms: { type: 'number' }, progress_ms: { type: 'number' } }) },
  { name: 'exit', description: 'Exits mid-call', inputSchema: object() },
  { name: 'spawn_helper', description: 'Starts a helper process', inputSchema: object() },
];
const server = new Server({ name: 'test-tools', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
  const args = request.params.arguments ?? {};
  switch (request.params.name) {
    case 'echo': return text('echo: ' + args.text);
    case 'fail': return { isError: true, content: [{ type: 'text', text: 'it broke' }] };
    case 'throw': throw new Error('thrown by the tool');
    case 'slow': {
      log('start ' + args.label);
      const token = request.params._meta?.progressToken;
      let step = 0;
      const ticker = args.progress_ms && token !== undefined && setInterval(() => {
        step += 1;
        extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: step } });
      }, args.progress_ms);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, args.ms);
        extra.signal.addEventListener('abort', () => { clearTimeout(timer); log('cancelled ' + args.label); resolve(); });
      });
      if (ticker) clearInterval(ticker);
      if (!extra.signal.aborted) log('end ' + args.label);
      return text('slept ' + args.label);
    }
    case 'exit': process.exit(3);
    case 'spawn_helper': {
      const child = spawn('sleep', ['600'], { stdio: 'ignore' });
      child.unref();
      log('helper ' + child.pid);
      return text(String(child.pid));
    }
    default: throw new Error('unknown tool');
  }
});
log('pid ' + process.pid);
server.connect(new StdioServerTransport());
`;

/** Writes the test MCP server into `dir`; returns its `mcp_servers` entry, logging to `logFile`. */
export function writeTestServer(dir: string, logFile: string): { command: string[]; env: Record<string, string> } {
  const script = join(dir, 'test-mcp-server.cjs');
  writeFileSync(script, TEST_SERVER);
  writeFileSync(logFile, '');
  return { command: [process.execPath, script], env: { TOOL_LOG: logFile } };
}

/** The lines the test server logged so far. */
export function serverLog(logFile: string): string[] {
  return readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
}

/** The pids the test server logged under `tag` (`pid`, `helper`). */
export function loggedPids(logFile: string, tag: 'pid' | 'helper'): number[] {
  return serverLog(logFile)
    .filter((line) => line.startsWith(`${tag} `))
    .map((line) => Number(line.slice(tag.length + 1)));
}

/** The `mcp_servers` entry of `@modelcontextprotocol/server-filesystem` serving `dir`, via node on its bin. */
export function filesystemServer(dir: string): { command: string[] } {
  const pkg = require.resolve('@modelcontextprotocol/server-filesystem/package.json');
  return { command: [process.execPath, join(pkg, '..', 'dist', 'index.js'), dir] };
}

/** Live (not zombie) processes from `ps`, with their process group and command line. */
export function processes(): { pid: number; pgid: number; args: string }[] {
  return execFileSync('ps', ['-eo', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/))
    .filter((match): match is RegExpMatchArray => match !== null && !match[3]?.startsWith('Z'))
    .map((match) => ({ pid: Number(match[1]), pgid: Number(match[2]), args: match[4] ?? '' }));
}

/** Live processes whose command line contains `text` (a test's temp dir). */
export function processesMentioning(text: string): { pid: number; pgid: number; args: string }[] {
  return processes().filter((process) => process.args.includes(text));
}

/** What each tool test gets afresh: a temp dir, the test server's log file, a model, its Runtime. */
export interface ToolTestbed {
  dir: string;
  log: string;
  model: ScriptedModel;
  /** The Runtime under test, closed after the test. */
  runtime: Runtime | undefined;
}

/**
 * Registers hooks that give each test of the file a fresh {@link ToolTestbed} and check, after it,
 * that no process mentioning its temp dir (an MCP server it started) is left.
 */
export function useToolTestbed(): ToolTestbed {
  const bed = { runtime: undefined } as ToolTestbed;
  beforeEach(async () => {
    bed.dir = await mkdtemp(join(tmpdir(), 'wr-tools-'));
    bed.log = join(bed.dir, 'tool.log');
    bed.model = await ScriptedModel.start();
  });
  afterEach(async () => {
    await bed.runtime?.close();
    bed.runtime = undefined;
    await bed.model.close();
    expect(processesMentioning(bed.dir)).toEqual([]);
    await rm(bed.dir, { recursive: true, force: true });
  });
  return bed;
}
