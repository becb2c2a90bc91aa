import { isRuntimeError, type RuntimeEvent } from '@worker-runtime/core';
import { booleanFlag, integerFlag, parseCommandArgs, stringFlag } from './args.js';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, type ClientContext, withClient } from './client-context.js';
import type { Command } from './command.js';
import { formatContent, formatJson, formatJsonLine } from './output.js';

const COMMAND = 'events';
/** `--follow` retries a lost server this often (0.5 s doubling to 5 s between attempts). */
const FOLLOW_RECONNECT = { attempts: 30, min_delay_ms: 500, max_delay_ms: 5000 };

const HELP = `Usage: worker-runtime events [--after N] [--limit N] [--worker W] [--follow] [options]

Prints the Runtime's event log, one "<id> <time> <kind> <worker> <message>" line per event.
Without --follow, prints one batch (the --after for the next goes to stderr when more follow);
with --json, the batch object. With --follow, reads the live event stream (GET
/v1/events/stream) until Ctrl-C (SIGINT/SIGTERM end it with exit 0); with --json, one JSON event
per line. When the connection drops or the server restarts it reconnects after the last event it
printed (backing off, giving up with exit 1 after about two minutes). When the follower falls
behind the server's retention (cursor_expired), it prints one warning on stderr and goes on from
the oldest retained event.

Event options:
  --after <id>     only events after this id (default: from the oldest retained event)
  --limit <n>      events per batch (default: the server's)
  --worker <id>    only events of this Worker
  --follow         keep waiting for new events
  --wait-ms <n>    without --follow: wait up to n ms when nothing is new yet

${CLIENT_OPTIONS_HELP}`;

function formatEvent(event: RuntimeEvent): string {
  const worker = event.worker_ref?.worker_id ?? '-';
  return `${event.id} ${event.created_at} ${event.kind} ${worker} ${formatContent(event.message)}\n`;
}

interface Query {
  after?: number;
  limit?: number;
  worker_id?: string;
}

/** The oldest retained event id when `error` says the cursor fell behind retention, else null. */
function oldestRetained(error: unknown): number | null {
  if (!isRuntimeError(error) || error.code !== 'cursor_expired') return null;
  const oldest = error.details?.oldest_available;
  return typeof oldest === 'number' && Number.isSafeInteger(oldest) && oldest >= 1 ? oldest : null;
}

/**
 * A cursor the server refused as ahead of its log: the server's log started over (a memory store
 * restarted), so the follower starts at its first event. Null for any other error.
 */
function restartedLog(error: unknown, after: number): number | null {
  if (!isRuntimeError(error) || error.code !== 'invalid_request') return null;
  const last = error.details?.last_event_id;
  return typeof last === 'number' && last < after ? last : null;
}

async function follow({ client, json, io }: ClientContext, query: Query): Promise<number> {
  const stop = new AbortController();
  const removeHandler = io.onSignal(() => stop.abort());
  try {
    let after = query.after ?? 0;
    for (;;) {
      try {
        const options = { after, signal: stop.signal, ...(query.worker_id ? { worker_id: query.worker_id } : {}) };
        for await (const item of client.watchEvents(options)) {
          if (item.type !== 'event') continue;
          io.stdout(json ? formatJsonLine(item.event) : formatEvent(item.event));
          after = item.event.id;
        }
        return 0;
      } catch (error) {
        if (stop.signal.aborted) return 0;
        const oldest = oldestRetained(error);
        if (oldest !== null && oldest - 1 > after) {
          io.stderr(
            `warning: events ${after + 1} to ${oldest - 1} are no longer retained; continuing from event ${oldest}\n`,
          );
          after = oldest - 1;
          continue;
        }
        if (restartedLog(error, after) !== null) {
          io.stderr(
            `warning: the server's event log starts over (after event ${after}); continuing from its first event\n`,
          );
          after = 0;
          continue;
        }
        throw error;
      }
    }
  } finally {
    removeHandler();
  }
}

/** `worker-runtime events [--follow]`. */
export const eventsCommand: Command = {
  name: 'events',
  summary: 'print the event log; --follow keeps waiting for new events',
  help: HELP,
  async run(argv, io) {
    const args = parseCommandArgs(
      argv,
      {
        ...CLIENT_OPTIONS,
        after: { type: 'string' },
        limit: { type: 'string' },
        worker: { type: 'string' },
        follow: { type: 'boolean' },
        'wait-ms': { type: 'string' },
      },
      COMMAND,
    );
    const limit = integerFlag(args, 'limit', COMMAND, { min: 1 });
    const worker = stringFlag(args, 'worker');
    const waitMs = integerFlag(args, 'wait-ms', COMMAND);
    const after = integerFlag(args, 'after', COMMAND);
    const query: Query = {
      ...(after !== undefined ? { after } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(worker !== undefined ? { worker_id: worker } : {}),
    };
    const following = booleanFlag(args, 'follow');
    return withClient(
      args,
      io,
      COMMAND,
      async (context) => {
        if (following) return follow(context, query);
        const batch = await context.client.readEvents({
          ...query,
          ...(waitMs !== undefined ? { wait_ms: waitMs } : {}),
        });
        if (context.json) {
          io.stdout(formatJson(batch));
          return 0;
        }
        io.stdout(batch.items.map(formatEvent).join(''));
        if (batch.has_more) io.stderr(`more events: --after ${batch.next_after}\n`);
        return 0;
      },
      // A follower outlives server restarts: it keeps trying for about two minutes.
      following ? FOLLOW_RECONNECT : undefined,
    );
  },
};
