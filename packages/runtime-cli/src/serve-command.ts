import { DEFAULT_LIMITS } from '@worker-runtime/core';
import { parseCommandArgs } from './args.js';
import type { Command } from './command.js';
import { parseServeConfig } from './serve-config.js';
import { envName, flagName, LIMIT_NAMES, SERVE_OPTIONS, SERVE_SETTINGS } from './serve-options.js';
import { RETENTION_SETTINGS } from './serve-retention.js';

const COMMAND = 'serve';

function row(flag: string, env: string, fallback: string, description: string): string {
  const head = `  ${flag.padEnd(28)} ${env}`;
  return `${head}${fallback === '' ? '' : ` (default: ${fallback})`}${description === '' ? '' : `\n  ${''.padEnd(28)} ${description}`}`;
}

const HELP = `Usage: worker-runtime serve [options]

Runs a Runtime behind the REST API until SIGINT/SIGTERM. Prints one ready line on stdout
("worker-runtime listening on <url> runtime=<id> store=<kind> profiles=<names>") and logs
JSON lines on stderr. Each option is also an environment variable and a --config file key;
precedence: flag > environment > config file > default.

Options (flag, environment variable, default):
${SERVE_SETTINGS.map((s) => row(`${s.flag} ${s.value}`, s.env, s.fallback, s.description)).join('\n')}
${row('(no flag)', envName('token'), '', 'the bearer token itself; never a flag, it would show in ps')}
  -h, --help                   show this help

Limits (SPEC §11; in a config file under "limits"):
${LIMIT_NAMES.map((name) => row(`--${flagName(name)} <n>`, envName(name), String(DEFAULT_LIMITS[name]), '')).join('\n')}

Retention (SPEC §13; in a config file under "retention"; --max-retained-events above also
bounds the fs and postgres event logs, which otherwise keep every event):
${RETENTION_SETTINGS.map((s) => row(`--${flagName(s.key)} <ms>`, envName(s.key), s.fallback, s.description)).join('\n')}

Exit codes: 0 clean shutdown; 1 runtime failure (port in use, store locked, bad config or
token file); 2 usage error (including a non-loopback --host without a token); 130/143 when
SIGINT/SIGTERM interrupts the startup (before the ready line) or a second one interrupts the
shutdown. See docs/cli.md.`;

/** `worker-runtime serve`: the standalone Runtime process. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'run a Runtime behind the REST API (the standalone process)',
  help: HELP,
  async run(argv, io) {
    const args = parseCommandArgs(argv, SERVE_OPTIONS, COMMAND);
    const config = await parseServeConfig({ args, env: io.env, cwd: io.cwd });
    // Loaded only here: the engines (the MCP SDK), the stores and the logger are most of the CLI's
    // start-up time, and the client commands never use them.
    const { runServe } = await import('./serve.js');
    return runServe(config, io);
  },
};
