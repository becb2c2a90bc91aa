import type { Runtime } from '@worker-runtime/core';
import { describe, expect, test } from 'vitest';
import { MISSING_RESULT } from './chat-messages.js';
import { entries, finishedRun, isRunning, openRuntime, startRun, waitFor } from './test-helpers.js';
import { loggedPids, serverLog, useToolTestbed, writeTestServer } from './tool-test-fixtures.js';

const bed = useToolTestbed();

async function open(options: Record<string, unknown> = {}): Promise<Runtime> {
  bed.runtime = await openRuntime(
    {
      tools: {
        engine: 'openai_chat',
        base_url: bed.model.baseUrl,
        model: 'test-model',
        mcp_servers: { t: writeTestServer(bed.dir, bed.log) },
        ...options,
      },
    },
    { limits: { cancel_grace_ms: 10_000 } },
  );
  return bed.runtime;
}

/** The transcript as [role, content, tool fields] for comparison. */
async function shape(rt: Runtime, worker_id: string): Promise<unknown[]> {
  return (await entries(rt, worker_id)).map(({ role, content, tool_calls, tool_call_id, name, is_error }) => ({
    role,
    content,
    ...(tool_calls ? { tool_calls } : {}),
    ...(tool_call_id ? { tool_call_id, name } : {}),
    ...(is_error ? { is_error } : {}),
  }));
}

describe('openai_chat tools: the loop', () => {
  test('one streamed call: the tools are offered, the call and its result are appended and sent back', async () => {
    const rt = await open();
    bed.model.script(
      { tool_calls: [{ name: 't__echo', arguments: { text: 'hi' } }] },
      { content: 'The tool said hi.' },
      { content: 'Still here.' },
    );
    const { worker_id, run_id } = await startRun(rt, 'tools', 'Use echo');
    expect((await finishedRun(rt, worker_id, run_id)).status).toBe('completed');
    const call = { id: 'call_1_0', name: 't__echo', arguments: '{"text":"hi"}' };
    expect(await shape(rt, worker_id)).toEqual([
      { role: 'user', content: 'Use echo' },
      { role: 'assistant', content: '', tool_calls: [call] },
      { role: 'tool', content: 'echo: hi', tool_call_id: 'call_1_0', name: 't__echo' },
      { role: 'assistant', content: 'The tool said hi.' },
    ]);
    const [first, second] = bed.model.requests;
    expect(first?.tools?.map((tool) => tool.function.name)).toEqual([
      't__echo',
      't__fail',
      't__throw',
      't__slow',
      't__exit',
      't__spawn_helper',
    ]);
    expect(first?.tools?.[0]).toEqual({
      type: 'function',
      function: {
        name: 't__echo',
        description: 'Echoes its text',
        parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      },
    });
    const exchange = [
      { role: 'user', content: 'Use echo' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }],
      },
      { role: 'tool', tool_call_id: 'call_1_0', content: 'echo: hi' },
    ];
    expect(second?.messages).toEqual(exchange);

    // The next run sends the whole exchange as history.
    const next = await rt.sendInput(worker_id, { kind: 'user', content: 'And now?' });
    expect((await finishedRun(rt, worker_id, next.run_id as string)).status).toBe('completed');
    expect(bed.model.requests[2]?.messages).toEqual([
      ...exchange,
      { role: 'assistant', content: 'The tool said hi.' },
      { role: 'user', content: 'And now?' },
    ]);
  });

  test('parallel calls in one (non-streamed) turn run at once and each result is appended', async () => {
    const rt = await open();
    bed.model.script(
      {
        stream: false,
        content: 'Sleeping twice.',
        tool_calls: [
          { id: 'a', name: 't__slow', arguments: { label: 'A', ms: 500 } },
          { id: 'b', name: 't__slow', arguments: { label: 'B', ms: 500 } },
        ],
      },
      { stream: false, content: 'Both done.' },
    );
    const { worker_id, run_id } = await startRun(rt, 'tools', 'Sleep');
    expect((await finishedRun(rt, worker_id, run_id)).status).toBe('completed');
    // Both calls started before either ended.
    const lines = serverLog(bed.log).filter((line) => !line.startsWith('pid'));
    expect(lines.slice(0, 2).sort()).toEqual(['start A', 'start B']);
    expect(lines.slice(2).sort()).toEqual(['end A', 'end B']);
    const transcript = await entries(rt, worker_id);
    expect(transcript.map((entry) => entry.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant']);
    expect(transcript[1]?.content).toBe('Sleeping twice.');
    expect(
      transcript
        .slice(2, 4)
        .map((entry) => [entry.tool_call_id, entry.content])
        .sort(),
    ).toEqual([
      ['a', 'slept A'],
      ['b', 'slept B'],
    ]);
    const answered = bed.model.requests[1]?.messages.filter((message) => message.role === 'tool');
    expect(answered?.map((message) => message.tool_call_id).sort()).toEqual(['a', 'b']);
  });

  test('a failing tool, a protocol error, an unknown tool and bad arguments become is_error results', async () => {
    const rt = await open();
    bed.model.script(
      {
        tool_calls: [
          { id: 'f', name: 't__fail', arguments: {} },
          { id: 'x', name: 't__throw', arguments: {} },
          { id: 'u', name: 't__nope', arguments: {} },
          { id: 'j', name: 't__echo', arguments: 'not json' },
        ],
      },
      { content: 'I saw four errors.' },
    );
    const { worker_id, run_id } = await startRun(rt, 'tools', 'Break things');
    expect((await finishedRun(rt, worker_id, run_id)).status).toBe('completed');
    const results = (await entries(rt, worker_id)).filter((entry) => entry.role === 'tool');
    const byId = Object.fromEntries(results.map((entry) => [entry.tool_call_id, entry]));
    expect(results.every((entry) => entry.is_error === true)).toBe(true);
    expect(byId.f?.content).toBe('it broke');
    expect(byId.x?.content).toContain('thrown by the tool');
    expect(byId.u?.content).toBe('there is no tool named "t__nope"');
    expect(byId.j?.content).toBe('the arguments are not a JSON object');
    const sent = bed.model.requests[1]?.messages.filter((message) => message.role === 'tool');
    expect(sent?.find((message) => message.tool_call_id === 'f')?.content).toBe('Error: it broke');
    expect((await entries(rt, worker_id)).at(-1)?.content).toBe('I saw four errors.');
  });

  test('max_tool_rounds: a model that keeps calling tools fails the run after that many rounds', async () => {
    const rt = await open({ max_tool_rounds: 2 });
    bed.model.fallback = { tool_calls: [{ name: 't__echo', arguments: { text: 'again' } }] };
    const { worker_id, run_id } = await startRun(rt, 'tools', 'Loop');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('failed');
    expect(run.error?.message).toBe(
      'the model still asked for tools after max_tool_rounds (2) rounds; the run was stopped',
    );
    expect(bed.model.requests).toHaveLength(3);
    expect((await entries(rt, worker_id)).map((entry) => entry.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'assistant',
      'tool',
    ]);
  });

  test('tool_timeout_ms: a call that takes too long is cancelled and the model sees the error', async () => {
    const rt = await open({ tool_timeout_ms: 300 });
    bed.model.script(
      { tool_calls: [{ id: 's', name: 't__slow', arguments: { label: 'late', ms: 60_000 } }] },
      { content: 'It timed out.' },
    );
    const { worker_id, run_id } = await startRun(rt, 'tools', 'Wait');
    expect((await finishedRun(rt, worker_id, run_id)).status).toBe('completed');
    const result = (await entries(rt, worker_id)).find((entry) => entry.role === 'tool');
    expect(result).toMatchObject({
      is_error: true,
      content: 'the tool did not answer within tool_timeout_ms (300 ms) and was cancelled',
    });
    await waitFor('the server to see the cancellation', () => serverLog(bed.log).includes('cancelled late'));
  });
});

describe('openai_chat tools: idle_timeout_ms', () => {
  test('a tool that reports MCP progress is not idle; a silent one times the run out and is cancelled', async () => {
    const rt = await open({ idle_timeout_ms: 1000 });
    bed.model.script(
      { tool_calls: [{ name: 't__slow', arguments: { label: 'busy', ms: 2500, progress_ms: 100 } }] },
      { content: 'Done.' },
      { tool_calls: [{ name: 't__slow', arguments: { label: 'silent', ms: 60_000 } }] },
    );
    const { worker_id, run_id } = await startRun(rt, 'tools', 'Work');
    expect((await finishedRun(rt, worker_id, run_id)).status).toBe('completed');
    expect(serverLog(bed.log)).toContain('end busy');

    const next = await rt.sendInput(worker_id, { kind: 'user', content: 'Work quietly' });
    const run = await finishedRun(rt, worker_id, next.run_id as string);
    expect(run).toMatchObject({ status: 'timed_out', error: { code: 'idle_timeout' } });
    await waitFor('the server to see the cancellation', () => serverLog(bed.log).includes('cancelled silent'));
  });
});

describe('openai_chat tools: cancel and failing servers', () => {
  test('cancel mid-call cancels the MCP request; the server is reused and the next run sees the call unanswered', async () => {
    const rt = await open();
    bed.model.script({ tool_calls: [{ id: 'long', name: 't__slow', arguments: { label: 'long', ms: 60_000 } }] });
    const { worker_id, run_id } = await startRun(rt, 'tools', 'Sleep long');
    await waitFor('the tool call to start', () => serverLog(bed.log).includes('start long'));
    await rt.cancelWorker(worker_id, { reason: 'changed my mind' });
    expect((await rt.getRun(worker_id, run_id)).status).toBe('cancelled');
    await waitFor('the server to see the cancellation', () => serverLog(bed.log).includes('cancelled long'));
    expect((await entries(rt, worker_id)).map((entry) => entry.role)).toEqual(['user', 'assistant']);

    bed.model.script({ content: 'Fine.' });
    const next = await rt.sendInput(worker_id, { kind: 'user', content: 'Never mind' });
    expect((await finishedRun(rt, worker_id, next.run_id as string)).status).toBe('completed');
    expect(bed.model.requests[1]?.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'long', type: 'function', function: expect.objectContaining({ name: 't__slow' }) }],
      },
      { role: 'tool', tool_call_id: 'long', content: MISSING_RESULT },
      { role: 'user', content: 'Never mind' },
    ]);
    // One server process served both runs.
    const [pid] = loggedPids(bed.log, 'pid');
    expect(loggedPids(bed.log, 'pid')).toHaveLength(1);
    expect(isRunning(pid as number)).toBe(true);
  });

  test('a server that exits mid-call fails the run; the next run starts it again', async () => {
    const rt = await open();
    bed.model.script({ tool_calls: [{ name: 't__exit', arguments: {} }] });
    const { worker_id, run_id } = await startRun(rt, 'tools', 'Exit');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('failed');
    expect(run.error?.message).toBe('MCP server "t" exited with status 3 while running tool "exit"');

    bed.model.script({ tool_calls: [{ name: 't__echo', arguments: { text: 'back' } }] }, { content: 'Back.' });
    const next = await rt.sendInput(worker_id, { kind: 'user', content: 'Again' });
    expect((await finishedRun(rt, worker_id, next.run_id as string)).status).toBe('completed');
    expect((await entries(rt, worker_id)).at(-2)?.content).toBe('echo: back');
    expect(loggedPids(bed.log, 'pid')).toHaveLength(2);
  });

  test.each([
    [{ command: ['/nonexistent/secret-bed.dir/no-such-mcp-server'] }, 'program "no-such-mcp-server" was not found'],
    [{ command: [process.execPath, '-e', 'process.exit(2)'] }, 'it exited with status 2 during the MCP handshake'],
    [{ command: [process.execPath, '-e', ''], cwd: '/nonexistent/secret-bed.dir' }, 'its "cwd" does not exist'],
  ])('a server that cannot start fails the run without calling the model: %j', async (server, reason) => {
    const rt = await open({ mcp_servers: { broken: server } });
    const { worker_id, run_id } = await startRun(rt, 'tools', 'Hi');
    const run = await finishedRun(rt, worker_id, run_id);
    expect(run.status).toBe('failed');
    expect(run.error?.message).toContain(`MCP server "broken" could not be started: ${reason}`);
    expect(run.error?.message).not.toContain('secret-bed.dir');
    expect(bed.model.requests).toEqual([]);
  });
});
