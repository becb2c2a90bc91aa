import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type ServerProcess, startServer } from './test-support/cli-process.js';
import { useCliTempDir } from './test-support/temp-dir.js';

const tempDir = useCliTempDir('worker-runtime-cli-diag-');

async function post(url: string, body: unknown): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const diagnosticLines = (server: ServerProcess, code: string) =>
  logLines(server.output.stderr).filter((line) => line.code === code);

describe.skipIf(process.platform === 'win32')('serve logs store diagnostics', () => {
  test('a torn journal tail, a stale lock and a corrupt transcript record each log one structured line', async () => {
    const dataDir = join(tempDir(), 'data');
    const runtimeDir = join(dataDir, 'runtimes', 'rt');
    const args = ['--store', 'fs', '--data-dir', dataDir, '--runtime-id', 'rt'];
    const first = await startServer(args);
    const pid = first.child.pid as number;
    expect(
      await post(`${first.url}/v1/workers`, {
        worker_id: 'w',
        intent: { kind: 'assistant' },
        profile: { kind: 'runtime_default' },
      }),
    ).toBe(201);
    for (const content of ['one', 'two', 'three']) {
      expect(await post(`${first.url}/v1/workers/w/input`, { kind: 'system', content })).toBe(202);
    }
    expect((await first.stop()).code).toBe(0);
    expect(
      logLines(first.output.stderr).filter(
        (line) => typeof line.code === 'string' && String(line.code).startsWith('store_'),
      ),
    ).toEqual([]);

    // Damage: a torn last journal line, a lock left by a process that is gone, bit rot in a transcript line.
    await appendFile(join(runtimeDir, 'journal.jsonl'), '{"batch":99,"records":[{"type":"transcript","ent');
    await writeFile(join(runtimeDir, 'LOCK'), `${JSON.stringify({ pid, acquired_at: '' })}\n`);
    const transcript = join(runtimeDir, 'workers', 'w', 'transcript.jsonl');
    const text = await readFile(transcript, 'utf8');
    await writeFile(transcript, text.replace('"content":"two"', '"content":"two'.padEnd(15, '\u0000')));

    const second = await startServer(args);
    await second.waitFor(() => diagnosticLines(second, 'store_torn_tail_repaired').length > 0);
    await second.waitFor(() => diagnosticLines(second, 'store_stale_lock_recovered').length > 0);
    // The corrupt record is found when it is read.
    const page = await fetch(`${second.url}/v1/workers/w/transcript`);
    expect(page.status).toBe(200);
    await page.arrayBuffer();
    await second.waitFor(() => diagnosticLines(second, 'store_corrupt_record').length > 0);
    const reported = (await (await fetch(`${second.url}/v1/diagnostics`)).json()) as {
      diagnostics: { id: string; code: string }[];
    };
    const result = await second.stop();
    expect(result.code).toBe(0);

    for (const code of ['store_torn_tail_repaired', 'store_stale_lock_recovered', 'store_corrupt_record']) {
      const lines = diagnosticLines(second, code);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toEqual({
        level: 'warn',
        time: expect.any(String),
        msg: expect.any(String),
        code,
        diagnostic_id: reported.diagnostics.find((item) => item.code === code)?.id,
      });
    }
    expect(result.stderr).not.toContain(tempDir());
  });
});
