import { RuntimeError } from '@worker-runtime/core';

/**
 * A command line the CLI cannot act on (unknown command or flag, bad value): exit code 2 with the
 * reason and a `--help` hint. It is an `invalid_request` RuntimeError so callers can treat it as one.
 */
export class UsageError extends RuntimeError {
  /** The command whose `--help` the hint names (`serve`, `workers create`, … or `''` for the binary). */
  readonly command: string;

  constructor(message: string, command = '') {
    super('invalid_request', message);
    this.command = command;
  }
}

/**
 * `--help`/`-h` on a command line: thrown by argument parsing, answered by `main` with the help of
 * `command`, the one place help is printed (exit code 0).
 */
export class HelpRequest extends Error {
  /** The command whose help to print (`serve`, `workers create`, …). */
  readonly command: string;

  constructor(command: string) {
    super(`help for ${command}`);
    this.name = 'HelpRequest';
    this.command = command;
  }
}

/** True for a {@link UsageError} (exit code 2). */
export function isUsageError(error: unknown): error is UsageError {
  return error instanceof UsageError;
}
