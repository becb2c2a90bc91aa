import type { InputAck, RunRecord, RuntimeEvent, TranscriptEntry } from '@worker-runtime/core';
import type { RuntimeClient } from '@worker-runtime/http';
import type { CliIo } from './io.js';
import { formatContent, formatJsonLine } from './output.js';

/** How much of a tool call's arguments or a tool result one line shows. */
const PREVIEW_CHARS = 160;

/** What `send --wait` saw: the ack, the run record once it ended, and the run's reply entries. */
export interface StreamedReply {
  ack: InputAck;
  run: RunRecord;
  replies: TranscriptEntry[];
}

/** The first line of `text`, at most PREVIEW_CHARS, with `…` when anything was left out. */
function preview(text: string): string {
  const cut = (text.split('\n', 1)[0] ?? '').slice(0, PREVIEW_CHARS);
  return cut.length < text.length ? `${cut}…` : cut;
}

/** `→ fs__read_text_file {"path":…}` for each call; `← fs__read_text_file: <first line…>` for a result. */
function toolLines(entry: TranscriptEntry): string {
  if (entry.role === 'tool') {
    const failed = entry.is_error ? ' (error)' : '';
    return `← ${formatContent(entry.name ?? 'tool')}${failed}: ${formatContent(preview(entry.content))}\n`;
  }
  return (entry.tool_calls ?? [])
    .map((call) => `→ ${formatContent(call.name)} ${formatContent(preview(call.arguments))}\n`)
    .join('');
}

async function entryAt(client: RuntimeClient, worker: string, sequence: number): Promise<TranscriptEntry | null> {
  const page = await client.transcript(worker, { start: sequence - 1, limit: 1 });
  return page.items[0] ?? null;
}

/**
 * Sends the input as a stream and prints the reply as it is produced: in text mode each output
 * delta goes to stdout as it arrives (an entry that did not stream is printed whole when it is
 * appended), every entry ends with a newline, and tool calls and results are one line each on
 * stderr (stdout stays the reply text). With `json`, every item is one JSON line on stdout
 * (`{type: "ack"}`, `{type: "event"}`, `{type: "delta"}`), then `{type: "result", run, replies}`.
 */
export async function streamReply(
  client: RuntimeClient,
  io: CliIo,
  worker: string,
  input: Parameters<RuntimeClient['sendInput']>[1],
  json: boolean,
): Promise<StreamedReply> {
  let ack: InputAck | null = null;
  const replies: TranscriptEntry[] = [];
  // Characters of the entry in progress already written to stdout.
  let written = 0;
  for await (const item of client.sendInput(worker, input, { stream: true })) {
    if (json) io.stdout(formatJsonLine(item));
    if (item.type === 'ack') ack = item.ack;
    else if (item.type === 'delta') {
      if (!json) io.stdout(formatContent(item.content));
      written += item.content.length;
    } else await onEvent(item.event);
  }
  async function onEvent(event: RuntimeEvent): Promise<void> {
    if (event.kind !== 'transcript_appended') return;
    const { sequence, role } = (event.data ?? {}) as { sequence?: number; role?: string };
    if (typeof sequence !== 'number' || role === 'user') return;
    const entry = await entryAt(client, worker, sequence);
    if (!entry) return;
    replies.push(entry);
    if (!json) {
      if (written > 0) io.stdout('\n');
      else if (entry.role === 'assistant' && entry.content !== '') io.stdout(`${formatContent(entry.content)}\n`);
      io.stderr(toolLines(entry));
    }
    written = 0;
  }
  const accepted = ack as InputAck;
  const run = await client.getRun(worker, accepted.run_id as string);
  if (json) io.stdout(formatJsonLine({ type: 'result', run, replies }));
  return { ack: accepted, run, replies };
}
