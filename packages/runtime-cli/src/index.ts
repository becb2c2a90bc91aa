// Entry point of the `worker-runtime` binary

// Arguments, logging and output helpers
export type { OptionSpec, ParsedArgs } from './args.js';
export { parseCommandArgs } from './args.js';
// Client commands
export type { ClientContext } from './client-context.js';
export { CLIENT_OPTIONS, DEFAULT_URL } from './client-context.js';
export type { Command } from './command.js';

// `serve`: configuration and the process
export type { ConfigFile, LoadedConfigFile, LogLevel, StoreKind } from './config-file.js';
export { ConfigFileSchema, LOG_LEVELS, loadConfigFile, PROFILE_ENGINES, STORE_KINDS } from './config-file.js';
export type { CliIo, StopSignal } from './io.js';
export { processIo } from './io.js';
export type { LogFields, Logger, LoggerOptions } from './logger.js';
export { createLogger } from './logger.js';
export { COMMANDS, main } from './main.js';
export { formatFields, formatTable } from './output.js';
export type { RunServeOptions } from './serve.js';
export { runServe, SIGNAL_EXIT_CODES } from './serve.js';
export type { ServeConfig, ServeConfigSources } from './serve-config.js';
export { isLoopbackHost, parseServeConfig } from './serve-config.js';
export type { ServeSettingDoc } from './serve-options.js';
export { ENV_PREFIX, envName, flagName, LIMIT_NAMES, SERVE_OPTIONS, SERVE_SETTINGS } from './serve-options.js';
export { readTokenFile } from './token.js';
export { isUsageError, UsageError } from './usage-error.js';
