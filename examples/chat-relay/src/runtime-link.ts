// Everything the relay asks of the Runtime, in one place: the only module that holds the Runtime's
// URL and token. The rest of the relay sees this interface, never the wire.
import { createRuntimeClient } from '@worker-runtime/http';

/** One item of a run's stream, reduced to what the relay forwards or tracks. */
export type RunItem =
  /** A durable event of the run: its id is the resume cursor. */
  | { type: 'event'; id: number; kind: string }
  /** The next piece of assistant entry `entry` of the run, starting at character `offset`. */
  | { type: 'delta'; entry: number; offset: number; content: string };

/** A message the Runtime accepted: the run it started and the event id to resume after. */
export interface RunStart {
  run_id: string;
  event_id: number;
}

/** How a run ended and what it replied (its assistant entries, joined). */
export interface RunResult {
  status: string;
  error: string | null;
  reply: string;
}

/** One transcript entry as the page shows it. */
export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
  run_id: string | null;
}

/** What the relay needs from the Runtime. */
export interface RuntimeLink {
  /** Creates the Worker of one browser session; returns its id. */
  createWorker(): Promise<string>;
  /** Sends a user message; the run is then read with {@link RuntimeLink.streamRun}. */
  send(worker_id: string, content: string): Promise<RunStart>;
  /**
   * The run's stream after event `after` (null: from the run's start): durable events, a catch-up
   * delta with the reply so far, live deltas; it ends after the run's terminal event. Aborting
   * `signal` closes the stream and cancels nothing.
   */
  streamRun(
    worker_id: string,
    run_id: string,
    options: { after: number | null; signal: AbortSignal },
  ): AsyncIterable<RunItem>;
  /** Cancels the Worker's active run (a no-op when there is none). */
  cancel(worker_id: string): Promise<void>;
  /** The run's final status and reply, once it has ended. */
  result(worker_id: string, run_id: string): Promise<RunResult>;
  /** The latest user and assistant entries, oldest first. */
  messages(worker_id: string): Promise<ChatMessage[]>;
}

/** Options of {@link createRuntimeLink}. */
export interface RuntimeLinkOptions {
  /** The Runtime's base URL. Stays on the server. */
  baseUrl: string;
  /** The Runtime token. Stays on the server: no response of the relay carries it. */
  token?: string | undefined;
  /** The Runtime profile every session's Worker is created from. */
  profile: string;
}

/** How many transcript entries a page load shows. */
const HISTORY_ENTRIES = 200;

/** A link over REST through the typed client of `@worker-runtime/http`. */
export function createRuntimeLink({ baseUrl, token, profile }: RuntimeLinkOptions): RuntimeLink {
  const client = createRuntimeClient({ baseUrl, token });

  return {
    async createWorker() {
      const worker = await client.createWorker({
        intent: { kind: 'assistant', purpose: 'chat with one browser session' },
        profile: { kind: 'named', value: profile },
        metadata: { created_by: 'chat-relay' },
      });
      return worker.worker_id;
    },
    async send(worker_id, content) {
      const ack = await client.sendInput(worker_id, { kind: 'user', content });
      // Only `system` inputs have no run; the relay sends `user` ones.
      if (ack.run_id === null) throw new Error('the Runtime started no run for a user message');
      return { run_id: ack.run_id, event_id: ack.event_id };
    },
    // The client reconnects with Last-Event-ID by itself and ends when `signal` aborts.
    async *streamRun(worker_id, run_id, { after, signal }) {
      const options = after === null ? { signal } : { last_event_id: after, signal };
      for await (const item of client.streamRun(worker_id, run_id, options)) {
        if (item.type === 'event') yield { type: 'event', id: item.event.id, kind: item.event.kind };
        else yield { type: 'delta', entry: item.entry, offset: item.offset, content: item.content };
      }
    },
    async cancel(worker_id) {
      await client.cancelWorker(worker_id, { reason: 'stopped from the chat page' });
    },
    async result(worker_id, run_id) {
      const run = await client.getRun(worker_id, run_id);
      // A chat session has one run at a time, so the run's entries are among the latest.
      const { items } = await client.transcript(worker_id, { tail: Math.max(1, run.output_entries) + 1 });
      const reply = items
        .filter((entry) => entry.run_id === run_id && entry.role === 'assistant')
        .map((entry) => entry.content)
        .join('\n\n');
      return { status: run.status, error: run.error?.message ?? null, reply };
    },
    async messages(worker_id) {
      const { items } = await client.transcript(worker_id, { tail: HISTORY_ENTRIES });
      return items.flatMap((entry): ChatMessage[] =>
        entry.role === 'user' || entry.role === 'assistant'
          ? [{ role: entry.role, content: entry.content, run_id: entry.run_id }]
          : [],
      );
    },
  };
}
