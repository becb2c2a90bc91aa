import { isAbsolute, resolve } from 'node:path';
import { DisplayNameSchema, isValidId, type Limits, LimitsSchema } from '@worker-runtime/core';
import * as v from 'valibot';
import { booleanFlag, listFlag, type ParsedArgs, parseInteger, stringFlag } from './args.js';
import {
  LOG_LEVELS,
  type LoadedConfigFile,
  type LogLevel,
  loadConfigFile,
  STORE_KINDS,
  type StoreKind,
} from './config-file.js';
import type { EngineModuleSource } from './engine-modules.js';
import { envName, flagName, LIMIT_NAMES } from './serve-options.js';
import { readTokenFile } from './token.js';
import { UsageError } from './usage-error.js';

/** Everything `serve` needs, resolved with precedence flag > env > config file > default. */
export interface ServeConfig {
  host: string;
  port: number;
  runtime_id: string | undefined;
  display_name: string | undefined;
  store: StoreKind;
  /** Absolute path of the fs store's directory. */
  data_dir: string;
  /** The bearer token, if any. Never log or print it. */
  token: string | undefined;
  allowed_hosts: string[];
  log_level: LogLevel;
  limits: Partial<Limits>;
  /** Profiles as the config file holds them; the Runtime checks each with its engine's schema. */
  profiles: Record<string, unknown>;
  default_profile: string | undefined;
  /** The config file's `engine_modules`, to load before the Runtime opens. */
  engine_modules: EngineModuleSource;
  /** Basename of the config file, if any: the Runtime's refusal of a profile is worded as its error. */
  config_file: string | undefined;
  /** Settings of the postgres store; set exactly when `store` is `postgres`. */
  postgres: PostgresSettings | undefined;
}

/** How `serve` opens the postgres store. */
export interface PostgresSettings {
  /** The connection string. It may hold a password: never log, print or echo it. */
  database_url: string;
  advertise_url: string | undefined;
  /** Wait for the lease instead of failing `store_locked`. */
  standby: boolean;
  lease_ms: number;
}

/** Inputs of {@link parseServeConfig}. */
export interface ServeConfigSources {
  /** Parsed `serve` flags. */
  args: ParsedArgs;
  env: Readonly<Record<string, string | undefined>>;
  /** Directory relative flag/env paths resolve against. */
  cwd: string;
}

const COMMAND = 'serve';
const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** True when `host` only accepts connections from this machine (same rule as runtime-http). */
export function isLoopbackHost(host: string): boolean {
  const value = host.trim().toLowerCase();
  return value === 'localhost' || value === '::1' || value === '[::1]' || IPV4_LOOPBACK.test(value);
}

/** A flag or environment value with the name to blame when it is bad. */
interface Raw {
  value: string;
  label: string;
}

function pick(args: ParsedArgs, env: ServeConfigSources['env'], key: string): Raw | undefined {
  const flag = stringFlag(args, flagName(key));
  if (flag !== undefined) return { value: flag, label: `--${flagName(key)}` };
  // An empty variable counts as unset, as most supervisors cannot "unset" one.
  const fromEnv = env[envName(key)];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, label: envName(key) };
  return undefined;
}

function oneOf<const T extends readonly string[]>(raw: Raw, allowed: T): T[number] {
  if (!(allowed as readonly string[]).includes(raw.value)) {
    throw new UsageError(`${raw.label} must be one of ${allowed.join(', ')} (got "${raw.value}")`, COMMAND);
  }
  return raw.value;
}

function nonEmpty(raw: Raw): string {
  if (raw.value.trim() === '') throw new UsageError(`${raw.label} must not be empty`, COMMAND);
  return raw.value;
}

/** The range core's LimitsSchema allows for `name`, so flag messages state the real bounds. */
function limitRange(name: keyof Limits): { min: number; max: number } {
  const range = { min: 0, max: Number.MAX_SAFE_INTEGER };
  for (const action of LimitsSchema.entries[name].pipe) {
    if (action.type === 'min_value') range.min = action.requirement;
    if (action.type === 'max_value') range.max = action.requirement;
  }
  return range;
}

function resolveLimitsFrom(sources: ServeConfigSources, file: LoadedConfigFile | undefined): Partial<Limits> {
  const limits: Partial<Limits> = {};
  for (const [name, value] of Object.entries(file?.config.limits ?? {})) {
    if (value !== undefined) limits[name as keyof Limits] = value;
  }
  for (const name of LIMIT_NAMES) {
    const raw = pick(sources.args, sources.env, name);
    if (raw === undefined) continue;
    const value = parseInteger(raw.value, raw.label, { ...limitRange(name), command: COMMAND });
    const checked = v.safeParse(LimitsSchema.entries[name], value);
    if (!checked.success) {
      throw new UsageError(`${raw.label}: ${checked.issues[0].message.replace(/ but received .*$/s, '')}`, COMMAND);
    }
    limits[name] = value;
  }
  return limits;
}

async function resolveToken(
  sources: ServeConfigSources,
  file: LoadedConfigFile | undefined,
): Promise<string | undefined> {
  const flag = stringFlag(sources.args, 'token-file');
  if (flag !== undefined) return readTokenFile(resolve(sources.cwd, nonEmpty({ value: flag, label: '--token-file' })));
  const token = sources.env[envName('token')];
  if (token !== undefined && token.trim() !== '') return token.trim();
  const envFile = sources.env[envName('token_file')];
  if (envFile !== undefined && envFile !== '') return readTokenFile(resolve(sources.cwd, envFile));
  if (file?.config.token_file !== undefined) return readTokenFile(resolve(file.dir, file.config.token_file));
  return undefined;
}

function resolveAllowedHosts(sources: ServeConfigSources, file: LoadedConfigFile | undefined): string[] {
  const flags = listFlag(sources.args, 'allowed-host');
  if (flags.length > 0) return flags.map((value) => nonEmpty({ value, label: '--allowed-host' }));
  const fromEnv = sources.env[envName('allowed_host')];
  if (fromEnv !== undefined && fromEnv !== '') {
    return fromEnv
      .split(',')
      .map((host) => host.trim())
      .filter((host) => host !== '');
  }
  return file?.config.allowed_hosts ?? [];
}

function resolvePostgres(sources: ServeConfigSources, file: LoadedConfigFile | undefined): PostgresSettings {
  const { args, env } = sources;
  const url = pick(args, env, 'database_url');
  const database_url = url ? nonEmpty(url) : file?.config.database_url;
  // Messages name the setting, never its value: the URL may carry a password.
  if (database_url === undefined) {
    throw new UsageError(`--store postgres needs --database-url or ${envName('database_url')}`, COMMAND);
  }
  if (!URL.canParse(database_url)) throw new UsageError(`${url?.label ?? 'database_url'} is not a valid URL`, COMMAND);
  const advertise = pick(args, env, 'advertise_url');
  if (advertise && !URL.canParse(advertise.value))
    throw new UsageError(`${advertise.label} is not a valid URL`, COMMAND);
  const standby = pick(args, env, 'standby');
  const leaseMs = pick(args, env, 'lease_ms');
  return {
    database_url,
    advertise_url: advertise?.value ?? file?.config.advertise_url,
    standby:
      booleanFlag(args, 'standby') ||
      (standby ? oneOf(standby, ['true', 'false']) === 'true' : (file?.config.standby ?? false)),
    lease_ms: leaseMs
      ? parseInteger(leaseMs.value, leaseMs.label, { min: 100, max: 3_600_000, command: COMMAND })
      : (file?.config.lease_ms ?? 10_000),
  };
}

/**
 * Resolves the `serve` configuration from flags, `WORKER_RUNTIME_*` variables and the `--config`
 * file (in that order of precedence), reading the token and config files it names.
 * @throws UsageError for a bad flag or environment value (exit 2)
 * @throws RuntimeError `invalid_request` for an unreadable or invalid config or token file (exit 1)
 */
export async function parseServeConfig(sources: ServeConfigSources): Promise<ServeConfig> {
  const { args, env, cwd } = sources;
  const configPath = pick(args, env, 'config');
  const file = configPath ? await loadConfigFile(resolve(cwd, nonEmpty(configPath))) : undefined;
  const fileConfig = file?.config ?? {};

  const host = pick(args, env, 'host');
  const port = pick(args, env, 'port');
  const runtimeId = pick(args, env, 'runtime_id');
  if (runtimeId && !isValidId(runtimeId.value)) {
    throw new UsageError(
      `${runtimeId.label} is not a valid id (1-128 of A-Z a-z 0-9 . _ -, starting alphanumeric)`,
      COMMAND,
    );
  }
  const displayName = pick(args, env, 'display_name');
  if (displayName && !v.is(DisplayNameSchema, displayName.value)) {
    throw new UsageError(`${displayName.label} must be 1-128 characters without control characters`, COMMAND);
  }
  const store = pick(args, env, 'store');
  const dataDir = pick(args, env, 'data_dir');
  const logLevel = pick(args, env, 'log_level');
  const profiles = fileConfig.profiles ?? {};
  const defaultProfile = pick(args, env, 'default_profile');
  if (defaultProfile && defaultProfile.value !== 'runtime_default' && !profiles[defaultProfile.value]) {
    throw new UsageError(
      `${defaultProfile.label} names profile "${defaultProfile.value}", which is not configured`,
      COMMAND,
    );
  }

  const config: ServeConfig = {
    host: host ? nonEmpty(host) : (fileConfig.host ?? '127.0.0.1'),
    port: port ? parseInteger(port.value, port.label, { max: 65_535, command: COMMAND }) : (fileConfig.port ?? 7420),
    runtime_id: runtimeId?.value ?? fileConfig.runtime_id,
    display_name: displayName?.value ?? fileConfig.display_name,
    store: store ? oneOf(store, STORE_KINDS) : (fileConfig.store ?? 'memory'),
    data_dir: dataDir
      ? resolve(cwd, nonEmpty(dataDir))
      : fileConfig.data_dir !== undefined
        ? isAbsolute(fileConfig.data_dir)
          ? fileConfig.data_dir
          : resolve(file?.dir ?? cwd, fileConfig.data_dir)
        : resolve(cwd, '.worker-runtime'),
    token: undefined,
    allowed_hosts: resolveAllowedHosts(sources, file),
    log_level: logLevel ? oneOf(logLevel, LOG_LEVELS) : (fileConfig.log_level ?? 'info'),
    limits: resolveLimitsFrom(sources, file),
    profiles,
    default_profile: defaultProfile?.value ?? fileConfig.default_profile,
    engine_modules: { specifiers: fileConfig.engine_modules ?? [], dir: file?.dir ?? cwd, file: file?.name ?? '' },
    config_file: file?.name,
    postgres: undefined,
  };
  if (config.store === 'postgres') config.postgres = resolvePostgres(sources, file);
  config.token = await resolveToken(sources, file);
  if (config.token === undefined && !isLoopbackHost(config.host)) {
    throw new UsageError(
      `refusing to bind ${config.host} without a token: set --token-file or ${envName('token')}, or bind 127.0.0.1`,
      COMMAND,
    );
  }
  return config;
}
