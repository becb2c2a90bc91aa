import type { TranscriptEntry } from '@worker-runtime/core';
import { integerFlag, parseCommandArgs } from './args.js';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, withClient } from './client-context.js';
import type { Command } from './command.js';
import { formatContent, formatJson } from './output.js';
import { UsageError } from './usage-error.js';

const COMMAND = 'transcript';

const HELP = `Usage: worker-runtime transcript <worker> [--tail N | --start N] [--limit N] [options]

Prints one page of a Worker's transcript, one "#<sequence> <role>: <content>" entry per line.
When more entries follow, the --start for the next page goes to stderr. With --json, the page
object ({ worker_ref, start, limit, total_items, items, next_start }).

Page options:
  --tail <n>    the last n entries
  --start <n>   0-based index of the first entry (default 0)
  --limit <n>   entries per page (default: the server's, at most 256)

${CLIENT_OPTIONS_HELP}`;

function formatEntry(entry: TranscriptEntry): string {
  return `#${entry.sequence} ${entry.role}: ${formatContent(entry.content)}\n`;
}

/** `worker-runtime transcript <worker> [--tail N]`. */
export const transcriptCommand: Command = {
  name: 'transcript',
  summary: "print a Worker's transcript (or its last N entries)",
  help: HELP,
  async run(argv, io) {
    const args = parseCommandArgs(
      argv,
      { ...CLIENT_OPTIONS, tail: { type: 'string' }, start: { type: 'string' }, limit: { type: 'string' } },
      COMMAND,
      { min: 1, max: 1, names: ['worker'] },
    );
    const tail = integerFlag(args, 'tail', COMMAND, { min: 1 });
    const start = integerFlag(args, 'start', COMMAND);
    const limit = integerFlag(args, 'limit', COMMAND, { min: 1 });
    if (tail !== undefined && start !== undefined) throw new UsageError('use --tail or --start, not both', COMMAND);
    const worker = args.positionals[0] as string;
    return withClient(args, io, COMMAND, async ({ client, json }) => {
      const page = await client.transcript(worker, {
        ...(tail !== undefined ? { tail } : {}),
        ...(start !== undefined ? { start } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      if (json) {
        io.stdout(formatJson(page));
        return 0;
      }
      io.stdout(page.items.map(formatEntry).join(''));
      if (page.next_start !== null) {
        io.stderr(
          `showing ${page.items.length} of ${page.total_items} entries; next page: --start ${page.next_start}\n`,
        );
      }
      return 0;
    });
  },
};
