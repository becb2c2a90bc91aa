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

/** True for a {@link UsageError} (exit code 2). */
export function isUsageError(error: unknown): error is UsageError {
  return error instanceof UsageError;
}
