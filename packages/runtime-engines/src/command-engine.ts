import { type ChildProcess, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AppendEntry, EngineResult, EngineRun, WorkerEngine } from '@worker-runtime/core';
import { ByteTail } from './byte-tail.js';
import { CommandProfileSchema, type ParsedCommandProfile } from './command-profile.js';
import { JsonlOutput } from './jsonl-output.js';
import { LineBuffer } from './line-buffer.js';
import { minimalEnv } from './minimal-env.js';
import { groupIsAlive, terminateGroup } from './process-group.js';
import { TextOutput } from './text-output.js';

/** How much of stderr a failure message quotes. */
const STDERR_TAIL_BYTES = 4096;
/**
 * After the program and its group are gone, how long to wait for stdout/stderr to reach EOF. Only a
 * process that left the group (a new session) can hold them open longer; its output is then cut.
 */
const STDIO_DRAIN_MS = 1000;

/** Options of {@link createCommandEngine}. */
export interface CommandEngineOptions {
  /** Where the few inherited variables (PATH, HOME, LANG, …) come from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The `command` engine: runs the profile's program once per run, without a shell, in its own
 * process group, and turns its stdout into transcript entries, streaming it as output deltas while
 * it is produced. POSIX only. Its profiles are checked with {@link CommandProfileSchema} when the
 * Runtime opens.
 * @throws (from `run`) an Error with the exit status and stderr tail when the program fails
 * @example
 * const runtime = await Runtime.open({
 *   engines: [createCommandEngine()],
 *   profiles: { shout: { engine: 'command', command: ['tr', 'a-z', 'A-Z'] } },
 * });
 */
export function createCommandEngine({ env = process.env }: CommandEngineOptions = {}): WorkerEngine {
  return {
    name: 'command',
    capabilities: [],
    profileSchema: CommandProfileSchema,
    run: async function runCommand(run: EngineRun): Promise<EngineResult | undefined> {
      // Parsed with CommandProfileSchema (defaults applied) when the Runtime opened.
      return executeCommand(run, run.worker.profile as ParsedCommandProfile, env);
    },
  };
}

async function executeCommand(
  run: EngineRun,
  profile: ParsedCommandProfile,
  parentEnv: NodeJS.ProcessEnv,
): Promise<EngineResult | undefined> {
  if (profile.cwd !== undefined) await assertDirectory(profile.cwd);
  run.signal.throwIfAborted();
  const argv = profile.input === 'argument' ? [...profile.command, run.input] : profile.command;
  if (profile.input === 'argument' && run.input.includes('\u0000')) {
    throw new Error('the input contains a NUL byte, which cannot be passed as an argument (use input: "stdin")');
  }
  const [program = '', ...args] = argv;
  let child: ChildProcess;
  try {
    child = spawn(program, args, {
      ...(profile.cwd === undefined ? {} : { cwd: profile.cwd }),
      env: minimalEnv(parentEnv, profile.env),
      // A new session makes the child the leader of its own process group, so one signal reaches
      // everything it starts.
      detached: true,
      stdio: [profile.input === 'stdin' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (error) {
    throw startFailure(program, error);
  }
  child.on('error', () => undefined);
  return supervise(child, child.pid as number, run, profile);
}

/**
 * Feeds the input, collects output, enforces the cap and abort, and settles once the group is gone.
 * Text output is the run's final entry (committed with its completion); jsonl entries are appended as
 * printed, except one still held when the program exits (see {@link JsonlOutput}): that one is final.
 */
async function supervise(
  child: ChildProcess,
  pgid: number,
  run: EngineRun,
  profile: ParsedCommandProfile,
): Promise<EngineResult | undefined> {
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let termination: Promise<void> | null = null;
  const terminate = (): Promise<void> => {
    termination ??= terminateGroup(pgid, profile.kill_grace_ms);
    return termination;
  };
  let failure: Error | null = null;
  const stop = (error: unknown): void => {
    failure ??= error instanceof Error ? error : new Error(String(error));
    void terminate();
  };
  const onAbort = (): void => void terminate();
  run.signal.addEventListener('abort', onAbort, { once: true });
  // The run may have been aborted while the program was starting.
  if (run.signal.aborted) onAbort();

  if (child.stdin) {
    // A program that exits without reading its input closes the pipe (EPIPE); that is not a failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(run.input);
  }

  const text = new TextOutput();
  const lines = new LineBuffer();
  const jsonl = new JsonlOutput(run, profile.last_entry_wait_ms, stop);
  const stderr = new ByteTail(STDERR_TAIL_BYTES);
  let outputBytes = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (failure) return;
    run.progress();
    outputBytes += chunk.length;
    if (outputBytes > profile.max_output_bytes) {
      stop(new Error(`the command's output exceeded max_output_bytes (${profile.max_output_bytes} bytes)`));
      return;
    }
    if (profile.output === 'text') {
      const piece = text.push(chunk);
      if (piece !== '' && !run.signal.aborted) run.delta(piece);
    } else for (const line of lines.push(chunk)) jsonl.take(line);
  });
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

  let status: { code: number | null; signal: NodeJS.Signals | null };
  let final: AppendEntry | undefined;
  try {
    status = await exited;
    // The program is gone; nothing else it started may outlive the run.
    if (termination !== null || (await groupIsAlive(pgid))) await terminate();
    await settleWithin(closed, STDIO_DRAIN_MS);
    child.stdout?.destroy();
    child.stderr?.destroy();
    if (profile.output === 'jsonl') {
      const last = lines.flush();
      if (last !== null && !failure) jsonl.take(last);
      final = await jsonl.end(!run.signal.aborted && !failure && status.code === 0);
    }
  } finally {
    run.signal.removeEventListener('abort', onAbort);
  }

  if (run.signal.aborted) throw run.signal.reason;
  if (failure) throw failure;
  if (status.code !== 0) throw exitFailure(status, stderr.text());
  if (final) return { final };
  if (profile.output === 'text') {
    const rest = text.end();
    if (rest !== '') run.delta(rest);
    if (text.text !== '') return { final: { role: 'assistant', content: text.text } };
  }
  return undefined;
}

function exitFailure(status: { code: number | null; signal: NodeJS.Signals | null }, stderr: string): Error {
  const how = status.signal ? `was terminated by signal ${status.signal}` : `exited with status ${status.code}`;
  return new Error(stderr ? `the command ${how}; stderr: ${stderr}` : `the command ${how} (no stderr output)`);
}

/** A start failure in words; names the program but never its directory. */
function startFailure(program: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const name = basename(program);
  const reason =
    code === 'ENOENT'
      ? `program "${name}" was not found`
      : code === 'EACCES'
        ? `program "${name}" is not executable`
        : code === 'E2BIG'
          ? 'the argument list is too long (use input: "stdin" for large inputs)'
          : `program "${name}" failed to start (${code ?? 'unknown error'})`;
  return new Error(`the command could not be started: ${reason}`);
}

async function assertDirectory(cwd: string): Promise<void> {
  const info = await stat(cwd).catch(() => null);
  if (!info?.isDirectory()) throw new Error('the profile\'s "cwd" does not exist or is not a directory');
}

async function settleWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
