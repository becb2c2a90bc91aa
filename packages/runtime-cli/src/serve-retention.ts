import type { Limits, RetentionOptions } from '@worker-runtime/core';
import { DEFAULT_IDEMPOTENCY_TTL_MS } from '@worker-runtime/core';
import { type ParsedArgs, parseInteger, stringFlag } from './args.js';
import type { LoadedConfigFile } from './config-file.js';
import { envName, flagName } from './serve-options.js';

/** The retention settings that have a flag of their own (`max_retained_events` is also a limit flag). */
export const RETENTION_SETTINGS = [
  {
    key: 'stopped_worker_ttl_ms',
    fallback: 'keep',
    description: 'delete stopped workers (and their data) this long after their stop',
  },
  {
    key: 'idempotency_ttl_ms',
    fallback: String(DEFAULT_IDEMPOTENCY_TTL_MS),
    description: 'idempotency keys expire after this long (then the same key is a new input)',
  },
] as const;

/**
 * `RuntimeOptions.retention` from flags, `WORKER_RUNTIME_*` variables and the config file's
 * `retention` object (flag > env > file). `--max-retained-events` (a limit) also bounds the
 * persistent stores' event logs, so one setting keeps N events whatever the store.
 * @throws UsageError for a bad flag or environment value
 */
export function resolveRetention(
  args: ParsedArgs,
  env: Readonly<Record<string, string | undefined>>,
  file: LoadedConfigFile | undefined,
  limits: Partial<Limits>,
): RetentionOptions {
  const retention: RetentionOptions = { ...(file?.config.retention ?? {}) };
  for (const { key } of RETENTION_SETTINGS) {
    const flag = stringFlag(args, flagName(key));
    const fromEnv = env[envName(key)];
    const raw =
      flag !== undefined
        ? { value: flag, label: `--${flagName(key)}` }
        : fromEnv !== undefined && fromEnv !== ''
          ? { value: fromEnv, label: envName(key) }
          : undefined;
    if (raw === undefined) continue;
    retention[key] = parseInteger(raw.value, raw.label, { min: 1, max: Number.MAX_SAFE_INTEGER, command: 'serve' });
  }
  const flagged = stringFlag(args, flagName('max_retained_events')) ?? env[envName('max_retained_events')];
  if (flagged !== undefined && flagged !== '' && limits.max_retained_events !== undefined) {
    retention.max_retained_events = limits.max_retained_events;
  }
  return retention;
}
