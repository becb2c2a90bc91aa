import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built binary: the tests run what users run (`pnpm build` first). */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** What a finished CLI process left behind. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of a spawned CLI process. */
export interface SpawnOptions {
  /** Extra environment (the parent's `WORKER_RUNTIME_*` variables are never inherited). */
  env?: Record<string, string>;
  cwd?: string;
  /** Written to the process's standard input, which is then closed (default: no stdin). */
  input?: string;
}

const live = new Set<ChildProcess>();

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WORKER_RUNTIME_')));
  return { ...env, ...extra };
}

function spawnCli(args: readonly string[], options: SpawnOptions): ChildProcess {
  if (!existsSync(CLI_PATH))
    throw new Error('dist/cli.js is missing: run `pnpm --filter @worker-runtime/cli build` first');
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    env: cleanEnv(options.env),
    cwd: options.cwd ?? process.cwd(),
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

function collect(child: ChildProcess): { output: { stdout: string; stderr: string }; exited: Promise<CliResult> } {
  const output = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
  });
  const exited = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, ...output }));
  });
  return { output, exited };
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], options: SpawnOptions = {}): Promise<CliResult> {
  return collect(spawnCli(args, options)).exited;
}

/** A CLI process still running, with its output so far. */
export interface RunningCli {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  exited: Promise<CliResult>;
  /** Resolves once `predicate` holds for the output, or rejects at the deadline or on exit. */
  waitFor(predicate: (output: { stdout: string; stderr: string }) => boolean, timeoutMs?: number): Promise<void>;
}

/** Starts the CLI and leaves it running. */
export function startCli(args: readonly string[], options: SpawnOptions = {}): RunningCli {
  const child = spawnCli(args, options);
  const { output, exited } = collect(child);
  let done = false;
  void exited.then(() => {
    done = true;
  });
  async function waitFor(predicate: (o: typeof output) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(output)) {
      if (done) throw new Error(`process exited first:\n${output.stdout}\n${output.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting:\n${output.stdout}\n${output.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return { child, output, exited, waitFor };
}

/** A running `serve` with what its ready line announced. */
export interface ServerProcess extends RunningCli {
  url: string;
  runtimeId: string;
  readyLine: string;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
}

const READY = /^worker-runtime listening on (http:\/\/\S+) runtime=(\S+) store=(\S+) profiles=(\S+)$/m;

/** Starts `serve --port 0 …` and waits for its ready line. */
export async function startServer(args: readonly string[] = [], options: SpawnOptions = {}): Promise<ServerProcess> {
  const running = startCli(['serve', '--port', '0', ...args], options);
  await running.waitFor((output) => READY.test(output.stdout));
  const match = READY.exec(running.output.stdout) as RegExpExecArray;
  return {
    ...running,
    url: match[1] as string,
    runtimeId: match[2] as string,
    readyLine: match[0],
    stop(signal = 'SIGTERM') {
      running.child.kill(signal);
      return running.exited;
    },
  };
}

/** Kills every CLI process a test left running (afterEach), except a shared one. */
export function killAllCli({ except }: { except?: ChildProcess } = {}): void {
  for (const child of live) {
    if (child === except) continue;
    child.kill('SIGKILL');
    live.delete(child);
  }
}

/** A JSON document read from the wire or stdout; tests check its shape with `expect`. */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON is asserted field by field with expect
export type WireJson = any;
