import { readFile } from 'node:fs/promises';
import { isRuntimeError, type ProfileInput, Runtime } from '@worker-runtime/core';
import * as v from 'valibot';
import { describe, expect, expectTypeOf, test } from 'vitest';
import { createBuiltinEngines } from './builtin-engines.js';
import { type CommandProfile, CommandProfileSchema, type ParsedCommandProfile } from './command-profile.js';
import { type OpenAIChatProfile, OpenAIChatProfileSchema } from './openai-chat-profile.js';

/** Opens a Runtime with this package's engines and `profile` as profile "p"; null when it opens. */
async function openError(profile: unknown): Promise<Error | null> {
  try {
    const runtime = await Runtime.open({ engines: createBuiltinEngines(), profiles: { p: profile as ProfileInput } });
    await runtime.close();
    return null;
  } catch (error) {
    if (!isRuntimeError(error)) throw error;
    expect(error.code).toBe('invalid_request');
    expect(error.details?.profile).toBe('p');
    return error;
  }
}

async function issuesOf(profile: unknown): Promise<unknown> {
  const error = await openError(profile);
  return error === null ? null : (error as { details?: { issues?: unknown } }).details?.issues;
}

describe('profile option schemas', () => {
  test('fill in the documented defaults', () => {
    expect(v.parse(CommandProfileSchema, { engine: 'command', command: ['cat'] })).toEqual({
      engine: 'command',
      command: ['cat'],
      input: 'stdin',
      output: 'text',
      kill_grace_ms: 2000,
      max_output_bytes: 1024 * 1024,
      last_entry_wait_ms: 0,
    });
    expect(
      v.parse(OpenAIChatProfileSchema, { engine: 'openai_chat', base_url: 'http://127.0.0.1:11434/v1', model: 'm' }),
    ).toEqual({
      engine: 'openai_chat',
      base_url: 'http://127.0.0.1:11434/v1',
      model: 'm',
      max_history_entries: 50,
      max_output_bytes: 1024 * 1024,
      first_byte_timeout_ms: 120_000,
      request_timeout_ms: 600_000,
      max_tool_rounds: 8,
      tool_timeout_ms: 60_000,
    });
  });
});

describe('each engine checks its profiles when the Runtime opens', async () => {
  test('accepts valid profiles, including the common profile keys', async () => {
    expect(
      await issuesOf({
        engine: 'command',
        command: ['/bin/cat'],
        description: 'cat',
        run_timeout_ms: 1000,
        idle_timeout_ms: 500,
        capabilities: ['files'],
        env: { A_B: '1' },
      }),
    ).toBeNull();
    expect(
      await issuesOf({
        engine: 'openai_chat',
        base_url: 'https://api.openai.com/v1',
        model: 'gpt-4o-mini',
        api_key_env: 'OPENAI_API_KEY',
      }),
    ).toBeNull();
  });

  test('reports every invalid field with its path', async () => {
    expect(
      await issuesOf({
        engine: 'command',
        command: ['', 'x'],
        input: 'pipe',
        kill_grace_ms: -1,
        env: { 'BAD-NAME': 'x' },
        extra: 1,
      }),
    ).toEqual([
      { path: 'command', message: 'must start with a non-empty program name' },
      { path: 'input', message: 'must be "stdin" or "argument"' },
      { path: 'env.BAD-NAME', message: 'must be an environment variable name (letters, digits, _)' },
      { path: 'kill_grace_ms', message: 'must be at least 0' },
      { path: 'extra', message: 'unknown field' },
    ]);
    expect(
      await issuesOf({
        engine: 'openai_chat',
        base_url: 'ftp://example.com',
        model: 'm',
        temperature: 3,
        headers: { 'Bad Header': 'x', 'X-Ok': 'line\nbreak' },
      }),
    ).toEqual([
      { path: 'base_url', message: 'must be an http:// or https:// URL' },
      { path: 'temperature', message: 'must be at most 2' },
      { path: 'headers.Bad Header', message: 'must be a valid HTTP header name' },
      { path: 'headers.X-Ok', message: 'must contain only printable ASCII or Latin-1 characters' },
    ]);
  });

  test('refuses durations a timer cannot honour, naming the field', async () => {
    const overflow = 2 ** 31;
    expect(
      await issuesOf({
        engine: 'command',
        command: ['cat'],
        run_timeout_ms: overflow,
        idle_timeout_ms: overflow,
        kill_grace_ms: overflow,
      }),
    ).toEqual([
      { path: 'run_timeout_ms', message: 'must be at most 2147483647 ms' },
      { path: 'idle_timeout_ms', message: 'must be at most 2147483647 ms' },
      { path: 'kill_grace_ms', message: 'must be at most 600000' },
    ]);
    expect(
      await issuesOf({ engine: 'openai_chat', base_url: 'http://x', model: 'm', run_timeout_ms: overflow }),
    ).toEqual([{ path: 'run_timeout_ms', message: 'must be at most 2147483647 ms' }]);
    expect(
      await issuesOf({ engine: 'command', command: ['cat'], run_timeout_ms: 2 ** 31 - 1, kill_grace_ms: 600_000 }),
    ).toBeNull();
  });

  test('rejects a base_url with credentials, a query or a fragment', async () => {
    const base = { engine: 'openai_chat', model: 'm' };
    expect(await issuesOf({ ...base, base_url: 'https://user:secret@example.com/v1' })).toEqual([
      { path: 'base_url', message: 'must not contain credentials (use api_key_env or headers)' },
    ]);
    expect(await issuesOf({ ...base, base_url: 'https://example.com/v1?key=1' })).toEqual([
      { path: 'base_url', message: 'must not have a query or fragment' },
    ]);
  });

  test('names the profile and the first field in the message', async () => {
    expect((await openError({ engine: 'openai_chat', base_url: 'http://x' }))?.message).toBe(
      'invalid options in profile "p": model: is required',
    );
  });

  test('every engine carries its schema, and echo profiles are checked by core', async () => {
    expect(createBuiltinEngines().map((engine) => [engine.name, engine.profileSchema])).toEqual([
      ['command', CommandProfileSchema],
      ['openai_chat', OpenAIChatProfileSchema],
    ]);
    expect(await issuesOf({ engine: 'echo', prefix: 'hi: ' })).toBeNull();
    expect(await issuesOf({ engine: 'echo', prefix: 1 })).toEqual([
      { path: 'prefix', message: expect.stringContaining('Invalid type') },
    ]);
  });

  test('accepts every profile of the example config in docs/engines.md, and a Runtime opens with it', async () => {
    const doc = await readFile(new URL('../../../docs/engines.md', import.meta.url), 'utf8');
    const block = /```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    const config = JSON.parse(block ?? '{}') as {
      profiles: Record<string, { engine: string }>;
      default_profile: string;
    };
    expect(Object.keys(config.profiles)).toEqual(['wordcount', 'reviewer', 'ollama', 'openai']);
    for (const profile of Object.values(config.profiles)) expect(await issuesOf(profile)).toBeNull();
    const runtime = await Runtime.open({ engines: createBuiltinEngines(), ...config });
    try {
      expect((await runtime.summary()).default_profile).toBe('ollama');
    } finally {
      await runtime.close();
    }
  });
});

describe('profile types', () => {
  test('a profile is written with its defaults left out, and read with them filled in', () => {
    const command: CommandProfile = { engine: 'command', command: ['cat'] };
    const chat: OpenAIChatProfile = { engine: 'openai_chat', base_url: 'http://127.0.0.1:11434/v1', model: 'm' };
    // @ts-expect-error a misspelt option is a compile error
    const typo: CommandProfile = { engine: 'command', command: ['cat'], outptu: 'jsonl' };
    expect([command, chat, typo]).toHaveLength(3);
    expectTypeOf<ParsedCommandProfile['kill_grace_ms']>().toEqualTypeOf<number>();
    expectTypeOf(v.parse(CommandProfileSchema, command)).toEqualTypeOf<ParsedCommandProfile>();
  });
});

describe('docs/engines.md', () => {
  /** The option rows of the table under `## \`<engine>\``: key → the row's cells. */
  async function optionRows(engine: string): Promise<Map<string, string[]>> {
    const doc = await readFile(new URL('../../../docs/engines.md', import.meta.url), 'utf8');
    const section = doc.split(`## \`${engine}\`\n`)[1]?.split('\n## ')[0] ?? '';
    const rows = new Map<string, string[]>();
    for (const line of section.split('\n')) {
      const cells = line.split(' | ').map((cell) => cell.replace(/^\| /, '').trim());
      const key = /^`(\w+)`$/.exec(cells[0] ?? '')?.[1];
      if (key) rows.set(key, cells);
    }
    return rows;
  }

  test.each([
    ['command', CommandProfileSchema],
    ['openai_chat', OpenAIChatProfileSchema],
  ] as const)('documents every %s option with the default its schema applies', async (engine, schema) => {
    const rows = await optionRows(engine);
    const common = ['engine', 'description', 'run_timeout_ms', 'idle_timeout_ms', 'capabilities'];
    const options = Object.keys(schema.entries).filter((key) => !common.includes(key));
    expect([...rows.keys()].sort()).toEqual([...options].sort());
    for (const key of options) {
      const fallback = v.getDefault(schema.entries[key as keyof typeof schema.entries] as v.GenericSchema);
      if (fallback !== undefined) expect(rows.get(key)?.[2], key).toContain(JSON.stringify(fallback));
    }
  });
});
