import { isRuntimeError } from '@worker-runtime/core';
import type { Command } from './command.js';
import { eventsCommand } from './events-command.js';
import type { CliIo } from './io.js';
import { runtimeCommand } from './runtime-command.js';
import { sendCommand } from './send-command.js';
import { serveCommand } from './serve-command.js';
import { transcriptCommand } from './transcript-command.js';
import { HelpRequest, isUsageError, UsageError } from './usage-error.js';
import { cliVersion } from './version.js';
import { workersCommand } from './workers-command.js';

/** Every command of the binary, in `--help` order. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  runtimeCommand,
  workersCommand,
  sendCommand,
  transcriptCommand,
  eventsCommand,
];

const HELP = `Usage: worker-runtime <command> [options]

Runs a worker-runtime Runtime (serve) or talks to a running one (the other commands).

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(12)} ${command.summary}`).join('\n')}

Options:
  -h, --help     show help (also: worker-runtime <command> --help)
  -v, --version  print the version

Exit codes: 0 ok · 1 runtime failure or server error · 2 usage error.
Docs: docs/cli.md`;

/** The help of `worker-runtime <path…>` (`''` the binary, `serve`, `workers create`, …). */
function helpText(path: readonly string[]): string {
  const [name, sub] = path;
  const command = COMMANDS.find((candidate) => candidate.name === name);
  const text = command ? ((sub === undefined ? undefined : command.subcommandHelp?.[sub]) ?? command.help) : HELP;
  return text.endsWith('\n') ? text : `${text}\n`;
}

function dispatch(argv: readonly string[], io: CliIo): Promise<number> | number {
  const [name, ...rest] = argv;
  if (name === undefined) throw new UsageError('missing command');
  if (name === '--help' || name === '-h' || name === 'help') throw new HelpRequest(rest.join(' '));
  if (name === '--version' || name === '-v' || name === 'version') {
    io.stdout(`${cliVersion()}\n`);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    throw new UsageError(name.startsWith('-') ? `unknown option ${name}` : `unknown command "${name}"`);
  }
  return command.run(rest, io);
}

/**
 * Runs the `worker-runtime` binary with `argv` (without `node` and the script) and resolves to its
 * exit code: 0 ok, 1 runtime failure (one `error <code>: <message>` line), 2 usage error (the
 * reason and a `--help` hint). Never throws and never prints a stack.
 * @example
 * process.exitCode = await main(process.argv.slice(2), processIo());
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof HelpRequest) {
      io.stdout(helpText(error.command.split(' ')));
      return 0;
    }
    if (isUsageError(error)) {
      const help = error.command === '' ? 'worker-runtime --help' : `worker-runtime ${error.command} --help`;
      io.stderr(`worker-runtime: ${error.message}\nRun '${help}' for usage.\n`);
      return 2;
    }
    if (isRuntimeError(error)) {
      io.stderr(`error ${error.code}: ${error.message}\n`);
      return 1;
    }
    // A bug: still one line, no stack (the message of a non-Runtime error carries no user data).
    io.stderr(`error internal: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
