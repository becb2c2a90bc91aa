import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ProfileInput, Runtime } from '@worker-runtime/core';
import { createFsStore } from '@worker-runtime/fs-store';
import { describe, expect, test } from 'vitest';
import { createBuiltinEngines } from './builtin-engines.js';
import { MISSING_RESULT } from './chat-messages.js';
import { createOpenAIChatEngine } from './openai-chat-engine.js';
import { entries, finishedRun, startRun, waitFor } from './test-helpers.js';
import {
  filesystemServer,
  loggedPids,
  processes,
  processesMentioning,
  serverLog,
  useToolTestbed,
  writeTestServer,
} from './tool-test-fixtures.js';

const bed = useToolTestbed();

function profile(servers: Record<string, unknown>, options: Record<string, unknown> = {}): ProfileInput {
  return { engine: 'openai_chat', base_url: bed.model.baseUrl, model: 'test-model', mcp_servers: servers, ...options };
}

async function open(servers: Record<string, unknown>, options: Record<string, unknown> = {}): Promise<Runtime> {
  bed.runtime = await Runtime.open({
    engines: createBuiltinEngines(),
    profiles: { tools: profile(servers, options) },
    limits: { cancel_grace_ms: 10_000 },
  });
  return bed.runtime;
}

/** Live processes in the group `pgid`, per `ps`. */
function group(pgid: number): number[] {
  return processes()
    .filter((process) => process.pgid === pgid)
    .map((process) => process.pid)
    .sort();
}

describe('MCP servers: a real server from npm', () => {
  test('@modelcontextprotocol/server-filesystem: the model reads a file through it', async () => {
    const files = join(bed.dir, 'files');
    await mkdir(files);
    await writeFile(join(files, 'notes.txt'), 'buy milk\n');
    const rt = await open({ fs: filesystemServer(files) });
    bed.model.script(
      { tool_calls: [{ id: 'r', name: 'fs__read_text_file', arguments: { path: join(files, 'notes.txt') } }] },
      { content: 'Your note says to buy milk.' },
    );
    const { worker_id, run_id } = await startRun(rt, 'tools', 'What do my notes say?');
    expect((await finishedRun(rt, worker_id, run_id)).status).toBe('completed');
    const offered = bed.model.requests[0]?.tools?.map((tool) => tool.function.name) ?? [];
    expect(offered).toEqual(expect.arrayContaining(['fs__read_text_file', 'fs__list_directory', 'fs__write_file']));
    const read = bed.model.requests[0]?.tools?.find((tool) => tool.function.name === 'fs__read_text_file');
    expect(read?.function.parameters).toMatchObject({ type: 'object', required: ['path'] });
    const result = (await entries(rt, worker_id)).find((entry) => entry.role === 'tool');
    expect(result).toMatchObject({ tool_call_id: 'r', name: 'fs__read_text_file', content: 'buy milk\n' });
    expect(result?.is_error).toBeUndefined();
    expect(bed.model.requests[1]?.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'r', content: 'buy milk\n' });

    // The server runs until its Worker stops, then nothing of it is left.
    expect(processesMentioning(files)).toHaveLength(1);
    await rt.stopWorker(worker_id);
    await waitFor('the server to be stopped', () => processesMentioning(files).length === 0);
  });

  test('describeProfile lists the tool names with temporary processes; capabilities follow mcp_servers', async () => {
    const engine = createOpenAIChatEngine();
    const files = join(bed.dir, 'described');
    await mkdir(files);
    const description = await engine.describeProfile(profile({ fs: filesystemServer(files) }) as never);
    expect(description.error).toBeNull();
    expect(description.tools).toEqual(expect.arrayContaining(['fs__read_text_file', 'fs__search_files']));
    expect(processesMentioning(files)).toEqual([]);
    expect(await engine.describeProfile(profile({}) as never)).toEqual({ tools: [], error: null });
    const broken = await engine.describeProfile(profile({ x: { command: ['no-such-mcp-server'] } }) as never);
    expect(broken).toEqual({
      tools: [],
      error: 'MCP server "x" could not be started: program "no-such-mcp-server" was not found',
    });
    expect(engine.profileCapabilities(profile({ fs: filesystemServer(files) }) as never)).toEqual(['tools']);
    expect(engine.profileCapabilities(profile({}) as never)).toEqual([]);
    await engine.close();
  });
});

describe('MCP servers: processes', () => {
  test('a server and the helpers it starts share a process group that stop ends; cancel ends the call only', async () => {
    const rt = await open({ t: writeTestServer(bed.dir, bed.log) });
    bed.model.script({
      tool_calls: [
        { id: 'h', name: 't__spawn_helper', arguments: {} },
        { id: 's', name: 't__slow', arguments: { label: 'long', ms: 60_000 } },
      ],
    });
    const { worker_id, run_id } = await startRun(rt, 'tools', 'Work');
    await waitFor(
      'the helper and the slow call',
      () => serverLog(bed.log).includes('start long') && loggedPids(bed.log, 'helper').length === 1,
    );
    const [server] = loggedPids(bed.log, 'pid') as [number];
    const [helper] = loggedPids(bed.log, 'helper') as [number];
    expect(group(server)).toEqual([server, helper].sort());

    await rt.cancelWorker(worker_id);
    expect((await rt.getRun(worker_id, run_id)).status).toBe('cancelled');
    await waitFor('the call to be cancelled', () => serverLog(bed.log).includes('cancelled long'));
    // Cancel stops the run's calls, not the Worker's server (reused by its next run).
    expect(group(server)).toEqual([server, helper].sort());

    await rt.stopWorker(worker_id);
    await waitFor('the whole group to be gone', () => group(server).length === 0);
  });

  test('servers start lazily per Worker and Runtime#close stops every one of them', async () => {
    const rt = await open({ t: writeTestServer(bed.dir, bed.log) });
    const create = () => rt.createWorker({ intent: { kind: 'assistant' }, profile: { kind: 'named', value: 'tools' } });
    const workers = [(await create()).worker_id, (await create()).worker_id];
    expect(loggedPids(bed.log, 'pid')).toEqual([]);
    bed.model.fallback = { content: 'ok' };
    // Two runs on each Worker: one server per Worker, reused by its second run.
    for (const id of [...workers, ...workers]) {
      const ack = await rt.sendInput(id, { kind: 'user', content: 'hi' });
      expect((await finishedRun(rt, id, ack.run_id as string)).status).toBe('completed');
    }
    const pids = loggedPids(bed.log, 'pid');
    expect(pids).toHaveLength(2);
    expect(pids.flatMap(group)).toHaveLength(2);
    await rt.close();
    bed.runtime = undefined;
    expect(pids.flatMap(group)).toEqual([]);
  });

  test('a restart in the middle of a tool loop: the run comes back interrupted and the transcript stays consistent', async () => {
    const dataDir = join(bed.dir, 'data');
    const server = writeTestServer(bed.dir, bed.log);
    const openFs = (): Promise<Runtime> =>
      Runtime.open({
        store: createFsStore({ data_dir: dataDir }),
        runtime_id: 'tool-restart',
        engines: createBuiltinEngines(),
        profiles: { tools: profile({ t: server }) },
      });
    const first = await openFs();
    bed.model.script(
      { tool_calls: [{ id: 'e', name: 't__echo', arguments: { text: 'one' } }] },
      { tool_calls: [{ id: 'l', name: 't__slow', arguments: { label: 'long', ms: 60_000 } }] },
    );
    const { worker_id, run_id } = await startRun(first, 'tools', 'Two steps');
    await waitFor('the second call to start', () => serverLog(bed.log).includes('start long'));
    await first.close();
    expect(loggedPids(bed.log, 'pid').flatMap(group)).toEqual([]);

    bed.runtime = await openFs();
    expect((await bed.runtime.getRun(worker_id, run_id)).status).toBe('interrupted');
    const transcript = await entries(bed.runtime, worker_id);
    expect(transcript.map((entry) => [entry.role, entry.tool_call_id ?? entry.tool_calls?.[0]?.id ?? null])).toEqual([
      ['user', null],
      ['assistant', 'e'],
      ['tool', 'e'],
      ['assistant', 'l'],
    ]);
    expect(transcript.map((entry) => entry.sequence)).toEqual([1, 2, 3, 4]);

    // The next run tells the model the interrupted call has no result.
    bed.model.script({ content: 'Resumed.' });
    const next = await bed.runtime.sendInput(worker_id, { kind: 'user', content: 'Go on' });
    expect((await finishedRun(bed.runtime, worker_id, next.run_id as string)).status).toBe('completed');
    expect(bed.model.requests[2]?.messages.slice(-3)).toEqual([
      expect.objectContaining({ role: 'assistant', tool_calls: [expect.objectContaining({ id: 'l' })] }),
      { role: 'tool', tool_call_id: 'l', content: MISSING_RESULT },
      { role: 'user', content: 'Go on' },
    ]);
  });
});
