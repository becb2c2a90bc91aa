import { type ChildProcess, spawn } from 'node:child_process';
import { basename } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { terminateGroup } from './process-group.js';

/** How long a server may take to exit by itself once its stdin is closed, before it is signalled. */
const STDIN_CLOSE_WAIT_MS = 300;
/** Time between SIGTERM and SIGKILL when a server is stopped. */
const KILL_GRACE_MS = 2000;

/** How a server process ended. */
export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What {@link GroupStdioTransport} starts. */
export interface StdioProgram {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd?: string | undefined;
}

/**
 * The MCP stdio transport (newline-delimited JSON-RPC on stdin/stdout, framed by the SDK's own
 * `ReadBuffer`), with the server in a process group of its own. The SDK's `StdioClientTransport`
 * cannot spawn detached and stops only its direct child, so a server that starts helpers (`npx`,
 * shells, language servers) would leave them behind; here stop ends the whole group.
 * stderr is discarded: it may hold paths or secrets and is never shown.
 */
export class GroupStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #program: StdioProgram;
  readonly #buffer = new ReadBuffer();
  #child: ChildProcess | undefined;
  #exit: ServerExit | undefined;
  #exited: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  constructor(program: StdioProgram) {
    this.#program = program;
  }

  /** How the process ended; undefined while it runs (or before it started). */
  get exit(): ServerExit | undefined {
    return this.#exit;
  }

  /** The process (and process group) id; undefined before start. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** @throws Error naming the program (never its directory) when it cannot be started */
  async start(): Promise<void> {
    const [program = '', ...args] = this.#program.argv;
    const child = spawn(program, args, {
      ...(this.#program.cwd === undefined ? {} : { cwd: this.#program.cwd }),
      env: this.#program.env,
      // A new session: the server leads its own process group, so one signal reaches its helpers.
      detached: true,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (error) {
      throw new Error(spawnFailure(program, error));
    }
    this.#child = child;
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve();
      }),
    );
    child.once('close', () => this.onclose?.());
    child.on('error', (error) => this.onerror?.(error));
    child.stdin?.on('error', (error) => this.onerror?.(error));
    child.stdout?.on('data', (chunk: Buffer) => this.#receive(chunk));
  }

  #receive(chunk: Buffer): void {
    try {
      this.#buffer.append(chunk);
    } catch (error) {
      // One message over the buffer cap: the stream cannot be resynchronised.
      this.onerror?.(error as Error);
      void this.close();
      return;
    }
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.#buffer.readMessage();
      } catch (error) {
        // A line that is not JSON-RPC (a server logging to stdout): skip it, as the SDK does.
        this.onerror?.(error as Error);
        continue;
      }
      if (message === null) return;
      this.onmessage?.(message);
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin || this.#exit || stdin.destroyed) throw new Error('the server is not running');
    if (!stdin.write(serializeMessage(message))) {
      await new Promise<void>((resolve) => stdin.once('drain', resolve));
    }
  }

  /** Closes stdin (the MCP way to ask a stdio server to exit), then ends the whole group. */
  close(): Promise<void> {
    this.#closed ??= this.#stop();
    return this.#closed;
  }

  async #stop(): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    child.stdin?.end();
    if (!this.#exit) await Promise.race([this.#exited, delay(STDIN_CLOSE_WAIT_MS)]);
    // Even when the leader has exited, helpers it started may still run in its group.
    await terminateGroup(child.pid, KILL_GRACE_MS);
    await this.#exited;
    this.#buffer.clear();
  }
}

function spawnFailure(program: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const name = basename(program);
  if (code === 'ENOENT') return `program "${name}" was not found`;
  if (code === 'EACCES') return `program "${name}" is not executable`;
  return `program "${name}" failed to start (${code ?? 'unknown error'})`;
}
