import {
  type BusyPolicy,
  type InputAck,
  type RunRecord,
  TERMINAL_RUN_STATUSES,
  type TranscriptEntry,
  type TranscriptPage,
} from '@worker-runtime/core';
import type { RuntimeClient } from '@worker-runtime/http';
import { booleanFlag, integerFlag, parseCommandArgs, stringFlag } from './args.js';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, withClient } from './client-context.js';
import type { Command } from './command.js';
import { formatContent, formatJson } from './output.js';
import { UsageError } from './usage-error.js';

const COMMAND = 'send';
const BUSY_POLICIES: readonly BusyPolicy[] = ['reject', 'enqueue', 'interrupt'];
/** Each long-poll asks for this long; the server caps it at its `max_wait_ms`. */
const POLL_MS = 30_000;

const HELP = `Usage: worker-runtime send <worker> <text|-> [--wait] [options]

Sends a user input to a Worker (POST /v1/workers/<worker>/input) and prints the ack.
With - as the text, the text is read from standard input (exactly as read, to its end).
With --wait, waits for the run to end and prints its reply text(s), one per transcript entry;
exits 1 if the run did not complete (failed, cancelled, timed_out, interrupted).

Input options:
  --wait                   wait for the run and print its replies
  --system                 append a system entry instead (no run; --wait does not apply)
  --on-busy <policy>       reject (default) | enqueue | interrupt
  --idempotency-key <key>  repeat-safe key (the same key and text return the original ack)
  --timeout-ms <n>         shorten the profile's run timeout for this input

${CLIENT_OPTIONS_HELP}`;

async function waitForRun(client: RuntimeClient, worker: string, runId: string): Promise<RunRecord> {
  for (;;) {
    const run = await client.getRun(worker, runId, { wait_ms: POLL_MS });
    if (TERMINAL_RUN_STATUSES.includes(run.status)) return run;
  }
}

/** The run's own entries after its user entry (a run's entries are contiguous: one run at a time). */
async function replies(client: RuntimeClient, worker: string, run: RunRecord): Promise<TranscriptEntry[]> {
  const found: TranscriptEntry[] = [];
  let start: number | null = run.input_sequence ?? 0;
  while (start !== null) {
    const page: TranscriptPage = await client.transcript(worker, { start });
    const items = page.items.filter((entry) => entry.run_id === run.run_id && entry.role !== 'user');
    found.push(...items);
    const passed: boolean = page.items.some(
      (entry) => entry.run_id !== run.run_id && entry.sequence > (run.input_sequence ?? 0),
    );
    start = passed ? null : page.next_start;
  }
  return found;
}

function formatAck(ack: InputAck): string {
  const worker = ack.worker_ref.worker_id;
  if (ack.run_id === null) return `appended system entry ${ack.transcript_sequence} to worker ${worker}\n`;
  const queued = ack.queue_position === null ? '' : ` at queue position ${ack.queue_position}`;
  return `accepted: run ${ack.run_id} ${ack.run_status}${queued} on worker ${worker}${ack.replayed ? ' (replayed)' : ''}\n`;
}

/** `worker-runtime send <worker> <text|-> [--wait]`. */
export const sendCommand: Command = {
  name: 'send',
  summary: 'send input to a Worker; with --wait, print the reply',
  help: HELP,
  async run(argv, io) {
    const args = parseCommandArgs(
      argv,
      {
        ...CLIENT_OPTIONS,
        wait: { type: 'boolean' },
        system: { type: 'boolean' },
        'on-busy': { type: 'string' },
        'idempotency-key': { type: 'string' },
        'timeout-ms': { type: 'string' },
      },
      COMMAND,
      { min: 2, max: 2, names: ['worker', 'text'] },
    );
    const onBusy = stringFlag(args, 'on-busy');
    if (onBusy !== undefined && !(BUSY_POLICIES as readonly string[]).includes(onBusy)) {
      throw new UsageError(`--on-busy must be one of ${BUSY_POLICIES.join(', ')} (got "${onBusy}")`, COMMAND);
    }
    const system = booleanFlag(args, 'system');
    const wait = booleanFlag(args, 'wait');
    if (system && wait) throw new UsageError('--wait does not apply to --system input (it starts no run)', COMMAND);
    const key = stringFlag(args, 'idempotency-key');
    const timeout = integerFlag(args, 'timeout-ms', COMMAND, { min: 1 });
    const [worker, text] = args.positionals as [string, string];
    const content = text === '-' ? await io.readStdin() : text;
    return withClient(args, io, COMMAND, async ({ client, json }) => {
      const ack = await client.sendInput(worker, {
        kind: system ? 'system' : 'user',
        content,
        ...(onBusy !== undefined ? { on_busy: onBusy as BusyPolicy } : {}),
        ...(key !== undefined ? { idempotency_key: key } : {}),
        ...(timeout !== undefined ? { timeout_ms: timeout } : {}),
      });
      if (!wait || ack.run_id === null) {
        io.stdout(json ? formatJson(ack) : formatAck(ack));
        return 0;
      }
      const run = await waitForRun(client, worker, ack.run_id);
      const entries = run.input_sequence === null ? [] : await replies(client, worker, run);
      if (json) io.stdout(formatJson({ ack, run, replies: entries }));
      else for (const entry of entries) io.stdout(`${formatContent(entry.content)}\n`);
      if (run.status === 'completed') return 0;
      const reason = run.error ? `: ${run.error.message}` : '';
      io.stderr(`run ${run.run_id} ${run.status}${reason}\n`);
      return 1;
    });
  },
};
