import { pino } from 'pino';
import type { LogLevel } from './config-file.js';

/** Extra fields of one log line (never tokens, bodies or file paths). */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** A structured logger writing one JSON object per line. */
export interface Logger {
  readonly level: LogLevel;
  /** Writes `{ level, time, msg, …fields }` when `level` is at or above the logger's level. */
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written (default `info`). */
  level?: LogLevel;
  /** Receives each line, newline included (default: standard error). */
  write?: (line: string) => void;
  /** Milliseconds since the epoch for the `time` field (default `Date.now`). */
  clock?: () => number;
}

/**
 * Creates a JSON-lines logger on pino (one object per line on standard error by default), the
 * format log collectors under a process supervisor parse without configuration. Levels are written
 * as names and `time` as ISO-8601; fields named `token` or `authorization` are dropped whatever
 * logs them.
 * @example
 * const logger = createLogger({ level: 'debug' });
 * logger.info('runtime started', { runtime_id: 'r1' });
 */
export function createLogger({
  level = 'info',
  write = (line) => process.stderr.write(line),
  clock = Date.now,
}: LoggerOptions = {}): Logger {
  const sink = pino(
    {
      level,
      // No pid or hostname: a supervisor's collector adds its own.
      base: null,
      timestamp: () => `,"time":"${new Date(clock()).toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['token', 'authorization'], remove: true },
    },
    { write },
  );
  function log(entryLevel: LogLevel, msg: string, fields: LogFields = {}): void {
    // A field must not pass itself off as the line's own level, message or time.
    const { level: _level, msg: _msg, time: _time, ...rest } = fields;
    sink[entryLevel](rest, msg);
  }
  return {
    level,
    log,
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
  };
}
