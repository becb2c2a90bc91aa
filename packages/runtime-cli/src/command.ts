import type { CliIo } from './io.js';

/** One top-level command of the `worker-runtime` binary. */
export interface Command {
  /** What the user types (`serve`, `workers`, …). */
  name: string;
  /** One line for the binary's `--help`. */
  summary: string;
  /** The command's full `--help` text. */
  help: string;
  /** The `--help` texts of its subcommands, by name (`workers create`, …). */
  subcommandHelp?: Readonly<Record<string, string>>;
  /**
   * Runs with the arguments after the command name; resolves to the exit code.
   * @throws UsageError (exit 2) or RuntimeError (exit 1)
   */
  run(argv: readonly string[], io: CliIo): Promise<number>;
}
