import type { EventBatch, RuntimeEvent } from '@worker-runtime/core';
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
(SIGINT/SIGTERM end it with exit 0); with --json, one JSON event per line.

Event options:
  --after <id>     only events after this id (default 0: from the oldest retained)
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
  after: number;
  limit?: number;
  worker_id?: string;
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
      const next = client.readEvents({ ...query, after, wait_ms: POLL_MS });
      // Ctrl-C may win the race; the abandoned poll must not surface as an unhandled rejection.
      next.catch(() => undefined);
      const batch: EventBatch | null = await Promise.race([next, stopped]);
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
    const query: Query = {
      after: integerFlag(args, 'after', COMMAND) ?? 0,
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
