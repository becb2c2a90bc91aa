import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import {
  DisplayNameSchema,
  IdSchema,
  isRuntimeError,
  PartialLimitsSchema,
  RuntimeError,
  toConfigIssues,
  type ValidationIssue,
} from '@worker-runtime/core';
import * as v from 'valibot';

/** Log levels, most verbose first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where the Runtime keeps its state. */
export const STORE_KINDS = ['memory', 'fs', 'postgres'] as const;
/** One of {@link STORE_KINDS}. */
export type StoreKind = (typeof STORE_KINDS)[number];

/**
 * The `--config` JSON file: the same settings as the flags (snake_case), plus `limits`, `profiles`
 * and `engine_modules`.
 */
export const ConfigFileSchema = v.strictObject({
  host: v.optional(v.pipe(v.string(), v.minLength(1))),
  port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65_535))),
  runtime_id: v.optional(IdSchema),
  display_name: v.optional(DisplayNameSchema),
  store: v.optional(v.picklist(STORE_KINDS)),
  data_dir: v.optional(v.pipe(v.string(), v.minLength(1))),
  database_url: v.optional(v.pipe(v.string(), v.minLength(1))),
  advertise_url: v.optional(v.pipe(v.string(), v.url())),
  standby: v.optional(v.boolean()),
  lease_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(3_600_000))),
  token_file: v.optional(v.pipe(v.string(), v.minLength(1))),
  allowed_hosts: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
  log_level: v.optional(v.picklist(LOG_LEVELS)),
  limits: v.optional(PartialLimitsSchema),
  // Each profile is checked by the engine it names, when the Runtime opens (see profileErrorInFile).
  profiles: v.optional(v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(128)), v.unknown())),
  default_profile: v.optional(v.pipe(v.string(), v.minLength(1))),
  engine_modules: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
});

/** A parsed config file. */
export type ConfigFile = v.InferOutput<typeof ConfigFileSchema>;

/** A config file with the directory its relative paths resolve against. */
export interface LoadedConfigFile {
  config: ConfigFile;
  /** The file's directory: `data_dir`, `token_file` and `engine_modules` in it are relative to this. */
  dir: string;
  /** The file's basename, used in messages (never the full path). */
  name: string;
}

function fileError(name: string, message: string): RuntimeError {
  return new RuntimeError('invalid_request', `invalid config file ${name}: ${message}`);
}

function jsonPosition(text: string, message: string): string {
  const position = /position (\d+)/.exec(message)?.[1];
  if (position === undefined) return '';
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  return ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
}

function checkDefaultProfile(config: ConfigFile, name: string): void {
  const fallback = config.default_profile;
  if (fallback !== undefined && fallback !== 'runtime_default' && !config.profiles?.[fallback]) {
    throw fileError(name, `default_profile: names "${fallback}", which is not in profiles`);
  }
}

/**
 * The Runtime's refusal of a profile (`details.profile`, `details.issues`), worded as a problem in
 * the config file that holds the profiles; any other error is returned as it is.
 */
export function profileErrorInFile(error: unknown, name: string): unknown {
  if (!isRuntimeError(error) || error.code !== 'invalid_request') return error;
  const profile = error.details?.profile;
  const issue = (error.details?.issues as ValidationIssue[] | undefined)?.[0];
  if (typeof profile !== 'string' || issue === undefined) return error;
  const where = issue.path ? `profiles.${profile}.${issue.path}` : `profiles.${profile}`;
  return fileError(name, `${where}: ${issue.message}`);
}

/**
 * Reads and validates a config file. Messages name the file by its basename and the offending field,
 * and never echo values.
 * @throws RuntimeError `invalid_request` when the file is unreadable, not JSON, or breaks the schema
 */
export async function loadConfigFile(path: string): Promise<LoadedConfigFile> {
  const name = basename(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new RuntimeError('invalid_request', `cannot read config file ${name}: ${code}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw fileError(name, `not valid JSON${jsonPosition(text, (error as Error).message)}`);
  }
  const result = v.safeParse(ConfigFileSchema, raw);
  if (!result.success) {
    const [issue] = toConfigIssues(result.issues);
    throw fileError(name, `${issue?.path ? `${issue.path}: ` : ''}${issue?.message ?? 'invalid'}`);
  }
  checkDefaultProfile(result.output, name);
  return { config: result.output, dir: dirname(path), name };
}
