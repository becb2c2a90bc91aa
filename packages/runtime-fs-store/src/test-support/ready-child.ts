import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** A node script running in a child process, started and waited for until it printed `ready`. */
export interface ReadyChild {
  /** Kills the child with SIGKILL (a crash at this instant) and resolves with all it printed. */
  crash(): Promise<string>;
  /** Resolves once the child printed `text` (or after `timeout_ms`, whichever comes first). */
  printed(text: string, timeout_ms: number): Promise<void>;
}

/**
 * Starts `node script ...args` and resolves once its stdout begins with `ready\n`.
 * @throws Error with the child's stderr when it exits or takes more than 10 s to get ready
 */
export async function startReadyChild(script: string, args: readonly string[]): Promise<ReadyChild> {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (chunk) => {
    out += chunk;
  });
  proc.stderr.on('data', (chunk) => {
    err += chunk;
  });
  const exited = once(proc, 'exit');
  const deadline = Date.now() + 10_000;
  while (!out.startsWith('ready\n')) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`child failed to start: ${err}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return {
    async printed(text: string, timeout_ms: number): Promise<void> {
      const until = Date.now() + timeout_ms;
      while (!out.includes(text) && proc.exitCode === null && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async crash(): Promise<string> {
      proc.kill('SIGKILL');
      await exited;
      return out;
    },
  };
}
