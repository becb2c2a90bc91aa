import { type EventBatch, isRuntimeError, type RuntimeEvent } from '@worker-runtime/core';
import { booleanFlag, integerFlag, parseCommandArgs, stringFlag } from './args.js';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, type ClientContext, withClient } from './client-context.js';
import type { Command } from './command.js';
import { formatContent, formatJson, formatJsonLine } from './output.js';

const COMMAND = 'events';
/** Each long-poll asks for this long; the server caps it at its `max_wait_ms`. */
const POLL_MS = 30_000;

const HELP = `Usage: worker-runtime events [--after N] [--limit N] [--worker W] [--follow] [options]

Prints the Runtime's event log, one "<id> <time> <kind> <worker> <message>" line per event.
Without --follow, prints one batch (the --after for the next goes to stderr when more follow);
with --json, the batch object. With --follow, keeps long-polling for new events until Ctrl-C
(SIGINT/SIGTERM end it with exit 0); with --json, one JSON event per line. When the follower
falls behind the server's retention (cursor_expired), it prints one warning on stderr and goes
on from the oldest retained event.

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

async function follow({ client, json, io }: ClientContext, query: Query): Promise<number> {
  let stop: () => void = () => undefined;
  const stopped = new Promise<null>((resolve) => {
    stop = () => resolve(null);
  });
  const removeHandler = io.onSignal(() => stop());
  try {
    let after = query.after;
    for (;;) {
      const next = client.readEvents({ ...query, ...(after !== undefined ? { after } : {}), wait_ms: POLL_MS });
      // Ctrl-C may win the race; the abandoned poll must not surface as an unhandled rejection.
      next.catch(() => undefined);
      let batch: EventBatch | null;
      try {
        batch = await Promise.race([next, stopped]);
      } catch (error) {
        const oldest = oldestRetained(error);
        if (oldest === null || (after !== undefined && oldest - 1 <= after)) throw error;
        io.stderr(
          `warning: events ${(after ?? 0) + 1} to ${oldest - 1} are no longer retained; continuing from event ${oldest}\n`,
        );
        after = oldest - 1;
        continue;
      }
      if (batch === null) return 0;
      for (const event of batch.items) io.stdout(json ? formatJsonLine(event) : formatEvent(event));
      after = batch.next_after;
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
    if (args.values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    const limit = integerFlag(args, 'limit', COMMAND, { min: 1 });
    const worker = stringFlag(args, 'worker');
    const waitMs = integerFlag(args, 'wait-ms', COMMAND);
    const after = integerFlag(args, 'after', COMMAND);
    const query: Query = {
      ...(after !== undefined ? { after } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(worker !== undefined ? { worker_id: worker } : {}),
    };
    return withClient(args, io, COMMAND, async (context) => {
      if (booleanFlag(args, 'follow')) return follow(context, query);
      const batch = await context.client.readEvents({ ...query, ...(waitMs !== undefined ? { wait_ms: waitMs } : {}) });
      if (context.json) {
        io.stdout(formatJson(batch));
        return 0;
      }
      io.stdout(batch.items.map(formatEvent).join(''));
      if (batch.has_more) io.stderr(`more events: --after ${batch.next_after}\n`);
      return 0;
    });
  },
};
