// Starts a Runtime as its own process with the published `worker-runtime serve` binary, the way a
// deployment runs one next to its backend.
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** A running Runtime process. */
export interface RuntimeProcess {
  /** The URL it listens on (loopback). */
  url: string;
  child: ChildProcess;
  /** SIGTERM, then resolves once it has exited. */
  stop(): Promise<void>;
}

/** Options of {@link startRuntimeProcess}. */
export interface RuntimeProcessOptions {
  /** The bearer token the Runtime requires; passed in its environment, never on its command line. */
  token: string;
  /** `serve --config` file (profiles, limits). */
  configFile: string;
  /** Port to listen on (0: a free one). */
  port: number;
}

/** The `worker-runtime` binary of the installed @worker-runtime/cli. */
function cliPath(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('@worker-runtime/cli/package.json');
  const { bin } = require(manifest) as { bin: Record<string, string> };
  return join(dirname(manifest), bin['worker-runtime'] ?? 'dist/cli.js');
}

const READY_LINE = /^worker-runtime listening on (\S+) /m;

/** Starts `worker-runtime serve` (memory store) and resolves once it prints its ready line. */
export function startRuntimeProcess({ token, configFile, port }: RuntimeProcessOptions): Promise<RuntimeProcess> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WORKER_RUNTIME_')));
  const child = spawn(
    process.execPath,
    [cliPath(), 'serve', '--host', '127.0.0.1', '--port', String(port), '--store', 'memory', '--config', configFile],
    {
      env: { ...env, WORKER_RUNTIME_TOKEN: token, WORKER_RUNTIME_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const url = READY_LINE.exec(output)?.[1];
      if (url !== undefined) resolve({ url, child, stop });
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the Runtime exited with code ${code} before it was ready`)));
  });
}
