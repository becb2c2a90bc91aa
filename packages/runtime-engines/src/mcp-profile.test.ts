import { readFile } from 'node:fs/promises';
import { Runtime, toConfigIssues } from '@worker-runtime/core';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { createBuiltinEngines } from './builtin-engines.js';
import { OpenAIChatProfileSchema } from './openai-chat-profile.js';

const BASE = { engine: 'openai_chat', base_url: 'http://127.0.0.1:11434/v1', model: 'm' };

function issuesOf(profile: unknown): unknown {
  const result = v.safeParse(OpenAIChatProfileSchema, profile);
  return result.success ? null : toConfigIssues(result.issues);
}

describe('tool options of openai_chat', () => {
  test('accept servers with command, env and cwd, and the loop limits', () => {
    expect(
      issuesOf({
        ...BASE,
        mcp_servers: {
          files: { command: ['npx', '-y', '@modelcontextprotocol/server-filesystem', '/srv'], cwd: '/srv' },
          'git-tools': { command: ['mcp-git'], env: { GIT_DIR: '/srv/.git' } },
        },
        max_tool_rounds: 20,
        tool_timeout_ms: 5000,
        first_byte_timeout_ms: 30_000,
        request_timeout_ms: 1_200_000,
      }),
    ).toBeNull();
  });

  test('report each invalid field with its path', () => {
    expect(
      issuesOf({
        ...BASE,
        mcp_servers: {
          a__b: { command: ['x'] },
          empty: { command: [] },
          env: { command: ['x'], env: { 'NOT-A-NAME': '1' }, shell: true },
        },
        max_tool_rounds: 0,
        tool_timeout_ms: 'soon',
        first_byte_timeout_ms: 0,
      }),
    ).toEqual([
      { path: 'first_byte_timeout_ms', message: 'must be at least 1' },
      { path: 'mcp_servers.a__b', message: 'server names may hold letters, digits, "-" and single "_" only' },
      { path: 'mcp_servers.empty.command', message: 'must name the program to run: ["program", ...args]' },
      { path: 'mcp_servers.empty.command', message: 'must start with a non-empty program name' },
      { path: 'mcp_servers.env.env.NOT-A-NAME', message: 'must be an environment variable name (letters, digits, _)' },
      { path: 'mcp_servers.env.shell', message: 'unknown field' },
      { path: 'max_tool_rounds', message: 'must be at least 1' },
      { path: 'tool_timeout_ms', message: expect.stringContaining('Invalid type') },
    ]);
  });

  test('the tool-using example of docs/engines.md is a valid profile', async () => {
    const doc = await readFile(new URL('../../../docs/engines.md', import.meta.url), 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((match) => match[1] ?? '');
    const example = blocks.find((block) => block.includes('"mcp_servers"'));
    const config = JSON.parse(example ?? '{}') as { profiles: Record<string, unknown> };
    const profiles = Object.values(config.profiles);
    expect(profiles.length).toBeGreaterThan(0);
    for (const profile of profiles) expect(issuesOf(profile)).toBeNull();
  });
});

describe('capability tools', () => {
  test('a Worker requesting it on a profile without tools is refused with unsupported_capability', async () => {
    const runtime = await Runtime.open({ engines: createBuiltinEngines(), profiles: { chat: BASE } });
    try {
      const create = runtime.createWorker({
        intent: { kind: 'assistant' },
        profile: { kind: 'named', value: 'chat' },
        requested_capabilities: [{ name: 'tools' }],
      });
      await expect(create).rejects.toMatchObject({
        code: 'unsupported_capability',
        details: { unsupported: ['tools'], available: [] },
      });
    } finally {
      await runtime.close();
    }
  });
});
