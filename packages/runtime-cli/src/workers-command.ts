import type { CreateWorkerRequest, Intent, ProfileRef, RunRecord, WorkerDetail } from '@worker-runtime/core';
import { integerFlag, listFlag, type ParsedArgs, parseCommandArgs, stringFlag } from './args.js';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, type ClientContext, withClient } from './client-context.js';
import type { Command } from './command.js';
import type { CliIo } from './io.js';
import { formatFields, formatJson, formatTable } from './output.js';
import { UsageError } from './usage-error.js';

/** `runtime_default`, `builtin:echo` or the named profile. */
export function formatProfileRef(profile: ProfileRef): string {
  return profile.kind === 'runtime_default'
    ? 'runtime_default'
    : profile.kind === 'builtin'
      ? 'builtin:echo'
      : profile.value;
}

function formatRun(run: RunRecord | null): string | null {
  if (run === null) return null;
  return `${run.run_id} ${run.status}${run.error ? ` (${run.error.code}: ${run.error.message})` : ''}`;
}

function formatIntent(intent: Intent): string {
  if (intent.kind === 'task') return `task: ${intent.objective}`;
  if (intent.kind === 'role') return `role: ${intent.role}${intent.purpose ? ` (${intent.purpose})` : ''}`;
  return `assistant${intent.purpose ? `: ${intent.purpose}` : ''}`;
}

function formatDetail(worker: WorkerDetail): string {
  return formatFields([
    ['worker_id', worker.worker_id],
    ['runtime_id', worker.runtime_id],
    ['display_ref', worker.display_ref],
    ['status', worker.status],
    ['intent', formatIntent(worker.intent)],
    ['profile', formatProfileRef(worker.profile)],
    ['created_at', worker.created_at],
    ['updated_at', worker.updated_at],
    ['transcript_len', worker.transcript_len],
    ['queued_inputs', worker.queued_inputs],
    ['active_run', formatRun(worker.active_run)],
    ['last_run', formatRun(worker.last_run)],
    ['last_event_id', worker.last_event_id],
    [
      'metadata',
      Object.entries(worker.metadata)
        .map(([key, value]) => `${key}=${value}`)
        .join(', '),
    ],
  ]);
}

interface Subcommand {
  usage: string;
  description: string;
  options: typeof CLIENT_OPTIONS;
  positionals: readonly string[];
  run(args: ParsedArgs, context: ClientContext): Promise<number>;
}

const PROFILE_HELP = 'runtime_default (default), builtin:echo, or a configured profile name';

function profileRef(value: string | undefined): ProfileRef {
  if (value === undefined || value === 'runtime_default') return { kind: 'runtime_default' };
  if (value === 'builtin:echo') return { kind: 'builtin', value: 'echo' };
  return { kind: 'named', value };
}

function intentFrom(args: ParsedArgs): Intent {
  const kind = stringFlag(args, 'intent') ?? 'assistant';
  const purpose = stringFlag(args, 'purpose');
  const withPurpose = purpose === undefined ? {} : { purpose };
  if (kind === 'assistant') return { kind, ...withPurpose };
  if (kind === 'task') {
    const objective = stringFlag(args, 'objective');
    if (!objective) throw new UsageError('--intent task needs --objective <text>', 'workers create');
    return { kind, objective };
  }
  if (kind === 'role') {
    const role = stringFlag(args, 'role');
    if (!role) throw new UsageError('--intent role needs --role <name>', 'workers create');
    return { kind, role, ...withPurpose };
  }
  throw new UsageError(`--intent must be one of assistant, task, role (got "${kind}")`, 'workers create');
}

function metadataFrom(args: ParsedArgs): Record<string, string> | undefined {
  const pairs = listFlag(args, 'metadata');
  if (pairs.length === 0) return undefined;
  const metadata: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`--metadata must be key=value (got "${pair}")`, 'workers create');
    metadata[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return metadata;
}

function createRequest(args: ParsedArgs): CreateWorkerRequest {
  const id = stringFlag(args, 'id');
  const name = stringFlag(args, 'name');
  const metadata = metadataFrom(args);
  const capabilities = listFlag(args, 'capability').map((capability) => ({ name: capability }));
  return {
    ...(id !== undefined ? { worker_id: id } : {}),
    ...(name !== undefined ? { display_name: name } : {}),
    intent: intentFrom(args),
    profile: profileRef(stringFlag(args, 'profile')),
    ...(capabilities.length > 0 ? { requested_capabilities: capabilities } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
  };
}

const REASON = { reason: { type: 'string' as const } };

const SUBCOMMANDS: Record<string, Subcommand> = {
  list: {
    usage: 'workers list [--status idle|running|stopped] [--limit N] [--cursor C]',
    description: 'Lists Workers in creation order (one page; the next cursor goes to stderr).',
    options: { ...CLIENT_OPTIONS, status: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } },
    positionals: [],
    async run(args, { client, json, io }) {
      const status = stringFlag(args, 'status');
      if (status !== undefined && !['idle', 'running', 'stopped'].includes(status)) {
        throw new UsageError(`--status must be one of idle, running, stopped (got "${status}")`, 'workers list');
      }
      const limit = integerFlag(args, 'limit', 'workers list', { min: 1 });
      const cursor = stringFlag(args, 'cursor');
      const page = await client.listWorkers({
        ...(status !== undefined ? { status: status as 'idle' | 'running' | 'stopped' } : {}),
        ...(limit !== undefined ? { limit } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
      });
      if (json) {
        io.stdout(formatJson(page));
        return 0;
      }
      io.stdout(
        formatTable(
          ['worker_id', 'status', 'profile', 'entries', 'queued', 'created_at', 'display_name'],
          page.workers.map((w) => [
            w.worker_id,
            w.status,
            formatProfileRef(w.profile),
            w.transcript_len,
            w.queued_inputs,
            w.created_at,
            w.display_name,
          ]),
        ),
      );
      if (page.next_cursor !== null) io.stderr(`more workers: --cursor ${page.next_cursor}\n`);
      return 0;
    },
  },
  create: {
    usage: `workers create [--id ID] [--name NAME] [--profile P] [--intent assistant|task|role]
                        [--objective TEXT] [--role NAME] [--purpose TEXT]
                        [--capability NAME]... [--metadata key=value]...`,
    description: `Creates a Worker and prints it. --profile: ${PROFILE_HELP}.`,
    options: {
      ...CLIENT_OPTIONS,
      id: { type: 'string' },
      name: { type: 'string' },
      profile: { type: 'string' },
      intent: { type: 'string' },
      objective: { type: 'string' },
      role: { type: 'string' },
      purpose: { type: 'string' },
      capability: { type: 'string', multiple: true },
      metadata: { type: 'string', multiple: true },
    },
    positionals: [],
    async run(args, { client, json, io }) {
      const worker = await client.createWorker(createRequest(args));
      io.stdout(
        json
          ? formatJson(worker)
          : `created worker ${worker.worker_id} (${worker.status}, profile ${formatProfileRef(worker.profile)})\n`,
      );
      return 0;
    },
  },
  show: {
    usage: 'workers show <worker>',
    description: 'Shows one Worker: status, profile, active and last run, metadata.',
    options: CLIENT_OPTIONS,
    positionals: ['worker'],
    async run(args, { client, json, io }) {
      const worker = await client.getWorker(args.positionals[0] as string);
      io.stdout(json ? formatJson(worker) : formatDetail(worker));
      return 0;
    },
  },
  stop: {
    usage: 'workers stop <worker> [--reason TEXT]',
    description: 'Stops a Worker for good: cancels its active run and queued inputs; its data stays readable.',
    options: { ...CLIENT_OPTIONS, ...REASON },
    positionals: ['worker'],
    async run(args, { client, json, io }) {
      const reason = stringFlag(args, 'reason');
      const ack = await client.stopWorker(args.positionals[0] as string, reason === undefined ? {} : { reason });
      const cancelled = ack.run_id === null ? '' : ` (run ${ack.run_id} cancelled)`;
      io.stdout(json ? formatJson(ack) : `stopped worker ${ack.worker_ref.worker_id}${cancelled}\n`);
      return 0;
    },
  },
  cancel: {
    usage: 'workers cancel <worker> [--reason TEXT]',
    description: "Cancels the Worker's active run (queued inputs continue).",
    options: { ...CLIENT_OPTIONS, ...REASON },
    positionals: ['worker'],
    async run(args, { client, json, io }) {
      const reason = stringFlag(args, 'reason');
      const ack = await client.cancelWorker(args.positionals[0] as string, reason === undefined ? {} : { reason });
      const text =
        ack.run_id === null
          ? `worker ${ack.worker_ref.worker_id} had no active run\n`
          : `cancelled run ${ack.run_id} of worker ${ack.worker_ref.worker_id}\n`;
      io.stdout(json ? formatJson(ack) : text);
      return 0;
    },
  },
};

function subcommandHelp(sub: Subcommand): string {
  return `Usage: worker-runtime ${sub.usage} [options]

${sub.description}

${CLIENT_OPTIONS_HELP}
`;
}

const HELP = `Usage: worker-runtime workers <list|create|show|stop|cancel> [options]

${Object.values(SUBCOMMANDS)
  .map((sub) => `  ${sub.usage.split('\n')[0]}\n      ${sub.description}`)
  .join('\n')}

Run 'worker-runtime workers <subcommand> --help' for its options.
`;

async function runSubcommand(name: string, sub: Subcommand, argv: readonly string[], io: CliIo): Promise<number> {
  const command = `workers ${name}`;
  const args = parseCommandArgs(argv, sub.options, command, {
    min: sub.positionals.length,
    max: sub.positionals.length,
    names: sub.positionals,
  });
  return withClient(args, io, command, (context) => sub.run(args, context));
}

/** `worker-runtime workers list|create|show|stop|cancel`. */
export const workersCommand: Command = {
  name: 'workers',
  summary: 'list, create, show, stop or cancel Workers',
  help: HELP,
  subcommandHelp: Object.fromEntries(Object.entries(SUBCOMMANDS).map(([name, sub]) => [name, subcommandHelp(sub)])),
  async run(argv, io) {
    const [name, ...rest] = argv;
    if (name === undefined) throw new UsageError('missing subcommand: list, create, show, stop or cancel', 'workers');
    // A flag before the subcommand: --help (answered by main) or an unknown option.
    if (name.startsWith('-')) parseCommandArgs([name], {}, 'workers');
    // hasOwn: a name such as "constructor" must not reach Object.prototype.
    const sub = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
    if (sub === undefined) {
      throw new UsageError(`unknown workers subcommand "${name}" (list, create, show, stop, cancel)`, 'workers');
    }
    return runSubcommand(name, sub, rest, io);
  },
};
