// The page's SSE endpoint: the session's watched run, read from the Runtime and passed on as
// `delta` and `done` messages. Each page connection reads its own Runtime stream, resuming after
// the last event the session saw, so a reload picks the reply up where it was.
import type { Context } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import type { RuntimeLink } from './runtime-link.js';
import { advance, type Session } from './sessions.js';

/** Event kinds after which a run changes no more; the run stream ends after one. */
const TERMINAL_RUN_EVENTS: ReadonlySet<string> = new Set([
  'run_completed',
  'run_failed',
  'run_cancelled',
  'run_timed_out',
  'run_interrupted',
]);

/** A comment this often keeps proxies from closing a quiet stream (a model thinking, a tool running). */
const KEEP_ALIVE_MS = 15_000;

function send(stream: SSEStreamingApi, event: string, data: unknown): Promise<void> {
  return stream.writeSSE({ event, data: JSON.stringify(data) });
}

/**
 * Streams the session's watched run to the page. Messages: `delta {run_id, entry, offset,
 * content}` (place `content` at `offset` of reply part `entry`: a reconnect repeats text from 0),
 * `done {run_id, status, error, reply}` once the run has ended, `idle {}` when no run is watched,
 * `failure {message}` when the Runtime cannot be read. The page closing the stream cancels nothing.
 */
export function relayRunStream(c: Context, session: Session, link: RuntimeLink): Response {
  return streamSSE(c, async (stream) => {
    const run = session.run;
    if (run === null || session.worker === null) {
      await send(stream, 'idle', {});
      return;
    }
    const { run_id } = run;
    const reader = new AbortController();
    stream.onAbort(() => reader.abort());
    const keepAlive = setInterval(() => void stream.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    try {
      const worker_id = await session.worker;
      for await (const item of link.streamRun(worker_id, run_id, { after: run.after, signal: reader.signal })) {
        // The cursor stops short of the terminal event: a page that drops before `done` is sent
        // resumes onto it, and gets its `done`.
        if (item.type === 'event') {
          if (!TERMINAL_RUN_EVENTS.has(item.kind)) advance(session, run_id, item.id);
        } else await send(stream, 'delta', { run_id, entry: item.entry, offset: item.offset, content: item.content });
      }
      // An iterator may simply end when its signal aborts: the page has gone, nothing to finish.
      if (reader.signal.aborted) return;
      const result = await link.result(worker_id, run_id);
      if (session.run?.run_id === run_id) session.run = null;
      await send(stream, 'done', { run_id, ...result });
    } catch (error) {
      if (reader.signal.aborted) return;
      console.error('chat-relay: reading a run stream failed:', (error as { code?: string }).code ?? error);
      await send(stream, 'failure', { run_id, message: 'the reply could not be read; reload to try again' });
    } finally {
      clearInterval(keepAlive);
      reader.abort();
    }
  });
}
