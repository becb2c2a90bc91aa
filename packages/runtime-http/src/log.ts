/** One structured log line from the HTTP layer. Never carries tokens, bodies or file paths. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  request_id?: string;
  method?: string;
  path?: string;
  /** The matched route's template (`/v1/workers/:worker_id`), never a raw path; absent when none matched. */
  route?: string;
  status?: number;
  duration_ms?: number;
  code?: string;
}

/** Receives log entries; the CLI writes them as JSON lines. */
export type RuntimeHttpLogger = (entry: LogEntry) => void;
