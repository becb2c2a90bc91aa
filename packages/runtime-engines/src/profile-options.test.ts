import { readFile } from 'node:fs/promises';
import { isRuntimeError, Runtime } from '@worker-runtime/core';
import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { createBuiltinEngines } from './builtin-engines.js';
import { CommandProfileSchema } from './command-profile.js';
import { OpenAIChatProfileSchema } from './openai-chat-profile.js';
import { validateProfileOptions } from './profile-options.js';

function issuesOf(engine: string, profile: unknown): unknown {
  try {
    validateProfileOptions(engine, profile);
    return null;
  } catch (error) {
    if (!isRuntimeError(error)) throw error;
    expect(error.code).toBe('invalid_request');
    return error.details?.issues;
  }
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

describe('validateProfileOptions', () => {
  test('accepts valid profiles, including the common profile keys', () => {
    expect(
      issuesOf('command', {
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
      issuesOf('openai_chat', {
        engine: 'openai_chat',
        base_url: 'https://api.openai.com/v1',
        model: 'gpt-4o-mini',
        api_key_env: 'OPENAI_API_KEY',
      }),
    ).toBeNull();
  });

  test('reports every invalid field with its path', () => {
    expect(
      issuesOf('command', {
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
      { path: 'extra', message: expect.stringContaining('Invalid key') },
    ]);
    expect(
      issuesOf('openai_chat', {
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

  test('refuses durations a timer cannot honour, naming the field', () => {
    const overflow = 2 ** 31;
    expect(
      issuesOf('command', {
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
      issuesOf('openai_chat', { engine: 'openai_chat', base_url: 'http://x', model: 'm', run_timeout_ms: overflow }),
    ).toEqual([{ path: 'run_timeout_ms', message: 'must be at most 2147483647 ms' }]);
    expect(
      issuesOf('command', { engine: 'command', command: ['cat'], run_timeout_ms: 2 ** 31 - 1, kill_grace_ms: 600_000 }),
    ).toBeNull();
  });

  test('rejects a base_url with credentials, a query or a fragment', () => {
    const base = { engine: 'openai_chat', model: 'm' };
    expect(issuesOf('openai_chat', { ...base, base_url: 'https://user:secret@example.com/v1' })).toEqual([
      { path: 'base_url', message: 'must not contain credentials (use api_key_env or headers)' },
    ]);
    expect(issuesOf('openai_chat', { ...base, base_url: 'https://example.com/v1?key=1' })).toEqual([
      { path: 'base_url', message: 'must not have a query or fragment' },
    ]);
  });

  test('names the engine and the first field in the message', () => {
    expect(() => validateProfileOptions('openai_chat', { engine: 'openai_chat', base_url: 'http://x' })).toThrow(
      'invalid options for engine "openai_chat": model: ',
    );
  });

  test('leaves engines it does not provide alone', () => {
    expect(issuesOf('echo', { engine: 'echo', prefix: 'hi: ' })).toBeNull();
  });

  test('accepts every profile of the example config in docs/engines.md, and a Runtime opens with it', async () => {
    const doc = await readFile(new URL('../../../docs/engines.md', import.meta.url), 'utf8');
    const block = /```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    const config = JSON.parse(block ?? '{}') as {
      profiles: Record<string, { engine: string }>;
      default_profile: string;
    };
    expect(Object.keys(config.profiles)).toEqual(['wordcount', 'reviewer', 'ollama', 'openai']);
    for (const profile of Object.values(config.profiles)) expect(issuesOf(profile.engine, profile)).toBeNull();
    const runtime = await Runtime.open({ engines: createBuiltinEngines(), ...config });
    try {
      expect((await runtime.summary()).default_profile).toBe('ollama');
    } finally {
      await runtime.close();
    }
  });
});
