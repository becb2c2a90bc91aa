import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { DisplayNameSchema, IdSchema, PartialLimitsSchema, ProfileSchema, RuntimeError } from '@worker-runtime/core';
import { validateProfileOptions } from '@worker-runtime/engines';
import * as v from 'valibot';

/** Log levels, most verbose first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where the Runtime keeps its state. */
export const STORE_KINDS = ['memory', 'fs', 'postgres'] as const;
/** One of {@link STORE_KINDS}. */
export type StoreKind = (typeof STORE_KINDS)[number];

/** The engines a config file's profiles may name. */
export const PROFILE_ENGINES = ['echo', 'command', 'openai_chat'] as const;

const EchoOptionsSchema = v.looseObject({
  prefix: v.optional(v.string()),
  delay_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});

const ConfigProfileSchema = v.looseObject({ ...ProfileSchema.entries, engine: v.picklist(PROFILE_ENGINES) });

/** The `--config` JSON file: the same settings as the flags (snake_case), plus `limits` and `profiles`. */
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
  profiles: v.optional(v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(128)), ConfigProfileSchema)),
  default_profile: v.optional(v.pipe(v.string(), v.minLength(1))),
});

/** A parsed config file. */
export type ConfigFile = v.InferOutput<typeof ConfigFileSchema>;

/** A config file with the directory its relative paths resolve against. */
export interface LoadedConfigFile {
  config: ConfigFile;
  /** The file's directory: `data_dir` and `token_file` in it are relative to this. */
  dir: string;
  /** The file's basename, used in messages (never the full path). */
  name: string;
}

/**
 * An issue message fit for an operator: valibot echoes the received value ("but received …"), which
 * could be a secret put in the wrong field, so it is cut; a missing key reads "is required".
 */
function cleanMessage(message: string): string {
  if (/^Invalid key: .* but received undefined$/s.test(message)) return 'is required';
  return message.replace(/ but received .*$/s, '');
}

function issueMessage(issue: v.BaseIssue<unknown>): string {
  if (issue.type === 'strict_object' && issue.expected === 'never') return 'unknown field';
  return cleanMessage(issue.message);
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

function checkProfiles(config: ConfigFile, name: string): void {
  for (const [profileName, profile] of Object.entries(config.profiles ?? {})) {
    if (profile.engine === 'echo') {
      const result = v.safeParse(EchoOptionsSchema, profile);
      const issue = result.issues?.[0];
      if (issue) throw fileError(name, `profiles.${profileName}.${v.getDotPath(issue)}: ${issueMessage(issue)}`);
      continue;
    }
    try {
      validateProfileOptions(profile.engine, profile);
    } catch (error) {
      const issue = ((error as RuntimeError).details?.issues as { path: string; message: string }[] | undefined)?.[0];
      const where = issue?.path ? `profiles.${profileName}.${issue.path}` : `profiles.${profileName}`;
      throw fileError(name, `${where}: ${cleanMessage(issue?.message ?? 'invalid options')}`);
    }
  }
  const fallback = config.default_profile;
  if (fallback !== undefined && fallback !== 'runtime_default' && !config.profiles?.[fallback]) {
    throw fileError(name, `default_profile: names "${fallback}", which is not in profiles`);
  }
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
    const issue = result.issues[0];
    const path = v.getDotPath(issue);
    throw fileError(name, `${path ? `${path}: ` : ''}${issueMessage(issue)}`);
  }
  checkProfiles(result.output, name);
  return { config: result.output, dir: dirname(path), name };
}
