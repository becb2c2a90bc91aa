import type { RuntimeSummary } from '@worker-runtime/core';
import { parseCommandArgs } from './args.js';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, withClient } from './client-context.js';
import type { Command } from './command.js';
import { formatFields, formatJson } from './output.js';

function formatSummary(summary: RuntimeSummary): string {
  const { workers } = summary;
  return formatFields([
    ['runtime_id', summary.runtime_id],
    ['display_name', summary.display_name],
    ['status', summary.status],
    ['store', summary.store],
    ['version', summary.version],
    ['started_at', summary.started_at],
    ['workers', `${workers.total} (idle ${workers.idle}, running ${workers.running}, stopped ${workers.stopped})`],
    ['active_runs', summary.active_runs],
    ['queued_inputs', summary.queued_inputs],
    ['last_event_id', summary.last_event_id],
    ['default_profile', summary.default_profile],
    ['profiles', summary.profiles.map((profile) => `${profile.name} (${profile.engine})`).join(', ')],
    ['engines', summary.capabilities.engines.join(', ')],
  ]);
}

const HELP = `Usage: worker-runtime runtime [options]

Shows the Runtime's summary (GET /v1/runtime). With --json, the summary object.

${CLIENT_OPTIONS_HELP}`;

/** `worker-runtime runtime`: the Runtime's summary. */
export const runtimeCommand: Command = {
  name: 'runtime',
  summary: 'show the Runtime: ids, status, store, worker counts, profiles',
  help: HELP,
  async run(argv, io) {
    const args = parseCommandArgs(argv, CLIENT_OPTIONS, 'runtime');
    return withClient(args, io, 'runtime', async ({ client, json }) => {
      const summary = await client.summary();
      io.stdout(json ? formatJson(summary) : formatSummary(summary));
      return 0;
    });
  },
};
