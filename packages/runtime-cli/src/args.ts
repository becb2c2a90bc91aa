import { parseArgs } from 'node:util';
import { HelpRequest, UsageError } from './usage-error.js';

/** The flags one command accepts, in `node:util` `parseArgs` form. */
export type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

/** Parsed flags and positionals of one command. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

function quoted(message: string): string {
  return /'([^']+)'/.exec(message)?.[1] ?? '';
}

/**
 * Parses `argv` strictly against `options` (plus `--help`/`-h`), with `min..max` positionals.
 * @throws HelpRequest when `--help`/`-h` is given (main prints the command's help)
 * @throws UsageError naming the unknown flag, missing value or unexpected argument
 */
export function parseCommandArgs(
  argv: readonly string[],
  options: OptionSpec,
  command: string,
  positionals: { min?: number; max?: number; names?: readonly string[] } = {},
): ParsedArgs {
  const { min = 0, max = 0, names = [] } = positionals;
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    }) as ParsedArgs;
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${quoted(message)}`, command);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = quoted(message).split(' ')[0] ?? '';
      const reason = message.includes('does not take') ? 'does not take a value' : 'needs a value';
      throw new UsageError(`option ${flag} ${reason}`, command);
    }
    throw new UsageError(message, command);
  }
  if (parsed.values.help === true) throw new HelpRequest(command);
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`, command);
  }
  if (parsed.positionals.length < min) {
    throw new UsageError(`missing <${names[parsed.positionals.length] ?? 'argument'}>`, command);
  }
  return parsed;
}

/** The value of a string flag, if given. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** The values of a repeatable string flag (empty when absent). */
export function listFlag(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value : [];
}

/** True when a boolean flag was given. */
export function booleanFlag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/**
 * Parses a whole decimal integer within `[min, max]`.
 * @throws UsageError naming `label` (the flag or environment variable)
 */
export function parseInteger(
  raw: string,
  label: string,
  { min = 0, max = Number.MAX_SAFE_INTEGER, command = '' }: { min?: number; max?: number; command?: string } = {},
): number {
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
    throw new UsageError(`${label} must be ${range} (got "${raw}")`, command);
  }
  return value;
}

/** An optional integer flag. @throws UsageError for a value that is not an integer in range */
export function integerFlag(
  args: ParsedArgs,
  name: string,
  command: string,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const raw = stringFlag(args, name);
  return raw === undefined ? undefined : parseInteger(raw, `--${name}`, { ...range, command });
}
