import { DEFAULT_LIMITS, type Limits } from '@worker-runtime/core';
import type { OptionSpec } from './args.js';

/** Prefix of every environment variable the CLI reads. */
export const ENV_PREFIX = 'WORKER_RUNTIME_';

/** The limit names of SPEC §11, in documentation order. */
export const LIMIT_NAMES: readonly (keyof Limits)[] = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];

/** `max_workers` → `--max-workers`. */
export function flagName(key: string): string {
  return key.replaceAll('_', '-');
}

/** `max_workers` → `WORKER_RUNTIME_MAX_WORKERS`. */
export function envName(key: string): string {
  return `${ENV_PREFIX}${key.toUpperCase()}`;
}

/** One `serve` setting as documented in `--help` and docs/cli.md. */
export interface ServeSettingDoc {
  /** Config file key (snake_case). */
  key: string;
  flag: string;
  env: string;
  /** Placeholder of the value in `--help`. */
  value: string;
  /** Shown default. */
  fallback: string;
  description: string;
}

/** The non-limit settings of `serve`; each is a flag, an environment variable and a config file key. */
export const SERVE_SETTINGS: readonly ServeSettingDoc[] = [
  {
    key: 'host',
    value: '<addr>',
    flag: '--host',
    env: envName('host'),
    fallback: '127.0.0.1',
    description: 'address to bind',
  },
  {
    key: 'port',
    value: '<port>',
    flag: '--port',
    env: envName('port'),
    fallback: '7420',
    description: 'port to bind (0 = any free port)',
  },
  {
    key: 'runtime_id',
    value: '<id>',
    flag: '--runtime-id',
    env: envName('runtime_id'),
    fallback: "the store's own, or new",
    description: 'runtime id to open or create',
  },
  {
    key: 'display_name',
    value: '<name>',
    flag: '--display-name',
    env: envName('display_name'),
    fallback: 'none',
    description: 'label of a newly created runtime',
  },
  {
    key: 'store',
    value: 'memory|fs|postgres',
    flag: '--store',
    env: envName('store'),
    fallback: 'memory',
    description: 'where state lives: memory (gone on exit), fs (durable, in --data-dir) or postgres (--database-url)',
  },
  {
    key: 'data_dir',
    value: '<dir>',
    flag: '--data-dir',
    env: envName('data_dir'),
    fallback: './.worker-runtime',
    description: 'fs store directory',
  },
  {
    key: 'database_url',
    value: '<url>',
    flag: '--database-url',
    env: envName('database_url'),
    fallback: 'none',
    description: 'postgres store connection string (prefer the variable: a flag shows in ps)',
  },
  {
    key: 'advertise_url',
    value: '<url>',
    flag: '--advertise-url',
    env: envName('advertise_url'),
    fallback: 'none',
    description: 'where backends reach this process (postgres store; shown by locateRuntime)',
  },
  {
    key: 'standby',
    value: '',
    flag: '--standby',
    env: envName('standby'),
    fallback: 'off',
    description: 'postgres store: wait until this process owns the runtime instead of failing store_locked',
  },
  {
    key: 'lease_ms',
    value: '<ms>',
    flag: '--lease-ms',
    env: envName('lease_ms'),
    fallback: '10000',
    description: 'postgres store: ownership lease, renewed every third of it',
  },
  {
    key: 'token_file',
    value: '<path>',
    flag: '--token-file',
    env: envName('token_file'),
    fallback: 'none',
    description: `file holding the bearer token (or ${envName('token')})`,
  },
  {
    key: 'allowed_hosts',
    value: '<host>',
    flag: '--allowed-host',
    env: envName('allowed_host'),
    fallback: 'none',
    description: 'extra Host name accepted on loopback (repeatable; env: comma-separated)',
  },
  {
    key: 'default_profile',
    value: '<name>',
    flag: '--default-profile',
    env: envName('default_profile'),
    fallback: 'runtime_default',
    description: 'profile `runtime_default` means',
  },
  {
    key: 'log_level',
    value: '<level>',
    flag: '--log-level',
    env: envName('log_level'),
    fallback: 'info',
    description: 'debug | info | warn | error',
  },
  {
    key: 'config',
    value: '<path>',
    flag: '--config',
    env: envName('config'),
    fallback: 'none',
    description: 'JSON config file',
  },
];

/** The flags `serve` accepts. */
export const SERVE_OPTIONS: OptionSpec = {
  host: { type: 'string' },
  port: { type: 'string' },
  'runtime-id': { type: 'string' },
  'display-name': { type: 'string' },
  store: { type: 'string' },
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
  'advertise-url': { type: 'string' },
  standby: { type: 'boolean' },
  'lease-ms': { type: 'string' },
  'token-file': { type: 'string' },
  'allowed-host': { type: 'string', multiple: true },
  'default-profile': { type: 'string' },
  'log-level': { type: 'string' },
  config: { type: 'string' },
  ...Object.fromEntries(LIMIT_NAMES.map((name) => [flagName(name), { type: 'string' as const }])),
};
