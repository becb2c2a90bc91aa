/** The signals that end `serve` and `events --follow`. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/** What the CLI touches of its process, injectable so `main` runs in tests too. */
export interface CliIo {
  /** Writes to standard output. */
  stdout(text: string): void;
  /** Writes to standard error. */
  stderr(text: string): void;
  /** Reads standard input to its end, as UTF-8 (for `send <worker> -`). */
  readStdin(): Promise<string>;
  env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths resolve against. */
  cwd: string;
  /** Calls `handler` on SIGINT/SIGTERM; returns the function that removes it. */
  onSignal(handler: (signal: StopSignal) => void): () => void;
  /** Ends the process at once with `code` (used for a second signal). */
  exit(code: number): void;
}

/** The real process: stdout, stderr, stdin, `process.env`, `process.cwd()`, signals and `process.exit`. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    cwd: process.cwd(),
    onSignal(handler) {
      const onInt = (): void => handler('SIGINT');
      const onTerm = (): void => handler('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      return () => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
      };
    },
    exit: (code) => process.exit(code),
  };
}
