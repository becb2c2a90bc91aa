// Runs the example exactly as its README does (`node dist/start.js`), on ephemeral ports.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const START = fileURLToPath(new URL('../../dist/start.js', import.meta.url));

/** The running example: a Runtime process and the relay in front of it. */
export interface ExampleProcess {
  runtimeUrl: string;
  relayUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the example with a given Runtime token; resolves once both URLs are printed. */
export function startExample(token: string): Promise<ExampleProcess> {
  if (!existsSync(START)) throw new Error('dist/start.js is missing: build the example first');
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WORKER_RUNTIME_')));
  const child = spawn(process.execPath, [START], {
    env: { ...env, PORT: '0', RUNTIME_PORT: '0', RUNTIME_TOKEN: token },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const runtimeUrl = /^runtime \(backend only\) on (\S+)/m.exec(output)?.[1];
      const relayUrl = /^chat relay listening on (\S+)/m.exec(output)?.[1];
      if (runtimeUrl === undefined || relayUrl === undefined) return;
      resolve({
        runtimeUrl,
        relayUrl,
        child,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', (code) => reject(new Error(`the example exited with code ${code} before it was ready`)));
  });
}
