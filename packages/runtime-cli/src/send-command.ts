import type { BusyPolicy, InputAck } from '@worker-runtime/core';
import { booleanFlag, integerFlag, parseCommandArgs, stringFlag } from './args.js';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, withClient } from './client-context.js';
import type { Command } from './command.js';
import { formatJson } from './output.js';
import { streamReply } from './reply-stream.js';
import { UsageError } from './usage-error.js';

const COMMAND = 'send';
const BUSY_POLICIES: readonly BusyPolicy[] = ['reject', 'enqueue', 'interrupt'];

const HELP = `Usage: worker-runtime send <worker> <text|-> [--wait] [options]

Sends a user input to a Worker (POST /v1/workers/<worker>/input) and prints the ack.
With - as the text, the text is read from standard input (exactly as read, to its end).
With --wait, streams the run (POST with "stream": true) and prints the reply as it is produced,
each entry ending with a newline; tool calls ("→ name {args}") and tool results ("← name: first
line") go to stderr as they happen. With --json and --wait, one JSON line per stream item: the
{"type":"ack"}, then each {"type":"event"} and {"type":"delta"}, then {"type":"result", run,
replies}. Exits 1 if the run did not complete (failed, cancelled, timed_out, interrupted).

Input options:
  --wait                   stream the run and print its reply as it is produced
  --system                 append a system entry instead (no run; --wait does not apply)
  --on-busy <policy>       reject (default) | enqueue | interrupt
  --idempotency-key <key>  repeat-safe key (the same key and text return the original ack)
  --timeout-ms <n>         shorten the profile's run timeout for this input

${CLIENT_OPTIONS_HELP}`;

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
      const input = {
        kind: system ? ('system' as const) : ('user' as const),
        content,
        ...(onBusy !== undefined ? { on_busy: onBusy as BusyPolicy } : {}),
        ...(key !== undefined ? { idempotency_key: key } : {}),
        ...(timeout !== undefined ? { timeout_ms: timeout } : {}),
      };
      if (!wait) {
        const ack = await client.sendInput(worker, input);
        io.stdout(json ? formatJson(ack) : formatAck(ack));
        return 0;
      }
      const { run } = await streamReply(client, io, worker, input, json);
      if (run.status === 'completed') return 0;
      const reason = run.error ? `: ${run.error.message}` : '';
      io.stderr(`run ${run.run_id} ${run.status}${reason}\n`);
      return 1;
    });
  },
};
