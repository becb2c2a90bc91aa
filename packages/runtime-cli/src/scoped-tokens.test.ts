import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli, startServer } from './test-support/cli-process.js';
import { useCliTempDir } from './test-support/temp-dir.js';

const dir = useCliTempDir('worker-runtime-cli-scopes-');

const READ = 'read-tok-5c1e9a77';
const ADMIN = 'admin-tok-9d02b4e1';

/** Writes the server's token set and one client token file per token; returns their paths. */
async function tokenFiles(): Promise<{ set: string; read: string; admin: string }> {
  const set = join(dir(), 'tokens.json');
  const sha256 = createHash('sha256').update(ADMIN).digest('hex');
  await writeFile(
    set,
    JSON.stringify({
      tokens: [
        { name: 'observer', token: READ, scopes: ['read'] },
        { name: 'ops', sha256, scopes: ['admin'] },
      ],
    }),
  );
  await writeFile(join(dir(), 'read'), `${READ}\n`);
  await writeFile(join(dir(), 'admin'), `${ADMIN}\n`);
  return { set, read: join(dir(), 'read'), admin: join(dir(), 'admin') };
}

describe('scoped tokens from a token file', () => {
  test('a read token can list, show, read the transcript and events; send gets insufficient_scope', async () => {
    const files = await tokenFiles();
    const server = await startServer(['--token-file', files.set, '--log-level', 'debug']);
    try {
      const as = (file: string, ...args: string[]) => runCli([...args, '--url', server.url, '--token-file', file]);
      expect((await as(files.admin, 'workers', 'create', '--id', 'w1')).code).toBe(0);
      expect((await as(files.admin, 'send', 'w1', 'hello', '--wait')).code).toBe(0);
      for (const args of [
        ['runtime'],
        ['workers', 'list'],
        ['workers', 'show', 'w1'],
        ['transcript', 'w1'],
        ['events', '--worker', 'w1'],
      ]) {
        const result = await as(files.read, ...args, '--json');
        expect(result.stderr, args.join(' ')).toBe('');
        expect(result.code, args.join(' ')).toBe(0);
      }
      const denied = await as(files.read, 'send', 'w1', 'more');
      expect(denied.code).toBe(1);
      expect(denied.stdout).toBe('');
      expect(denied.stderr).toBe('error insufficient_scope: this token lacks the "control" scope this route needs\n');
      // The server's request lines name the token, never show it.
      const requests = server.output.stderr
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
        .filter((line) => line.msg === 'request');
      expect(requests.some((line) => line.token_name === 'observer' && line.status === 403)).toBe(true);
      // `send --wait` streams its input (200 text/event-stream).
      const input = (line: { route?: string }) => line.route === '/v1/workers/:worker_id/input';
      expect(requests.some((line) => line.token_name === 'ops' && input(line) && line.status === 200)).toBe(true);
    } finally {
      const result = await server.stop();
      expect(`${result.stdout}${result.stderr}`).not.toContain(READ);
      expect(`${result.stdout}${result.stderr}`).not.toContain(ADMIN);
    }
  });

  test('a bad token file is refused with its first problem, never its tokens; a client refuses a token set', async () => {
    const file = join(dir(), 'tokens.json');
    const check = async (content: unknown, message: string) => {
      await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
      const result = await runCli(['serve', '--port', '0', '--token-file', file]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`error invalid_request: invalid token file tokens.json: ${message}\n`);
      expect(result.stdout).toBe('');
    };
    await check(
      { tokens: [{ name: 'a', token: 'secret-aa', scopes: ['root'] }] },
      'tokens[0].scopes[0]: must be read, control or admin',
    );
    await check({ tokens: [{ name: 'a', scopes: ['read'] }] }, 'tokens[0]: needs exactly one of token, sha256');
    await check({ tokens: [{ name: 'a', token: 'secret-bb', scopes: ['read'] }], extra: 1 }, 'extra: unknown field');
    // JSON.parse's own message quotes the text: only "not valid JSON" (and a position, when known) is shown.
    await check('{"tokens": [secret-cc]}', 'not valid JSON');
    await check({ tokens: [] }, 'tokens: must hold at least one token');

    await writeFile(file, JSON.stringify({ tokens: [{ name: 'a', token: 'secret-dd', scopes: ['read'] }] }));
    const client = await runCli(['runtime', '--url', 'http://127.0.0.1:9', '--token-file', file]);
    expect(client.code).toBe(1);
    expect(client.stderr).toMatch(/holds a token set \(for serve\); a client needs a file with its one token/);
    expect(client.stderr).not.toContain('secret');
  });
});
