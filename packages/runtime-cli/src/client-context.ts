import { resolve } from 'node:path';
import { isRuntimeError } from '@worker-runtime/core';
import { createRuntimeClient, type RuntimeClient } from '@worker-runtime/http';
import { booleanFlag, type OptionSpec, type ParsedArgs, stringFlag } from './args.js';
import type { CliIo } from './io.js';
import { envName } from './serve-options.js';
import { readTokenFile } from './token.js';
import { isUsageError, UsageError } from './usage-error.js';

/** The flags every client command accepts. */
export const CLIENT_OPTIONS: OptionSpec = {
  url: { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
};

/** Help lines for {@link CLIENT_OPTIONS}. */
export const CLIENT_OPTIONS_HELP = `Connection options:
  --url <url>          Runtime to talk to (env ${envName('url')}, default http://127.0.0.1:7420)
  --token-file <path>  file holding the bearer token (env ${envName('token')} or ${envName('token_file')})
  --json               machine-readable output (one JSON document)
  -h, --help           show this help`;

/** Default `--url`. */
export const DEFAULT_URL = 'http://127.0.0.1:7420';

/** A client command's view of the world: the typed client, the output mode and the process. */
export interface ClientContext {
  client: RuntimeClient;
  /** `--json` was given. */
  json: boolean;
  /** The Runtime's base URL. */
  url: string;
  io: CliIo;
}

async function resolveToken(args: ParsedArgs, io: CliIo, command: string): Promise<string | undefined> {
  const flag = stringFlag(args, 'token-file');
  if (flag !== undefined) {
    if (flag === '') throw new UsageError('--token-file must not be empty', command);
    return readTokenFile(resolve(io.cwd, flag));
  }
  const token = io.env[envName('token')]?.trim();
  if (token) return token;
  const file = io.env[envName('token_file')];
  return file ? readTokenFile(resolve(io.cwd, file)) : undefined;
}

/**
 * Builds the client from `--url`/`WORKER_RUNTIME_URL` and the token sources.
 * @throws UsageError for a URL that is not http(s)
 * @throws RuntimeError `invalid_request` for an unreadable token file
 */
export async function createClientContext(args: ParsedArgs, io: CliIo, command: string): Promise<ClientContext> {
  const url = stringFlag(args, 'url') ?? (io.env[envName('url')] || DEFAULT_URL);
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new UsageError(`--url must be an http(s) URL (got "${url}")`, command);
  }
  const token = await resolveToken(args, io, command);
  return { client: createRuntimeClient({ baseUrl: url, token }), json: booleanFlag(args, 'json'), url, io };
}

/**
 * Runs a client command body, turning a server error into `error <code>: <message>` on stderr and
 * exit code 1. Errors never reach stdout, which holds only results (JSON values with `--json`).
 */
export async function withClient(
  args: ParsedArgs,
  io: CliIo,
  command: string,
  body: (context: ClientContext) => Promise<number>,
): Promise<number> {
  const context = await createClientContext(args, io, command);
  try {
    return await body(context);
  } catch (error) {
    // A bad flag found while building the request is still a usage error (exit 2), not a server one.
    if (!isRuntimeError(error) || isUsageError(error)) throw error;
    const unreachable = (error as { status?: unknown }).status === 0;
    const message = unreachable ? `${error.message} at ${context.url}` : error.message;
    io.stderr(`error ${error.code}: ${message}\n`);
    return 1;
  }
}
