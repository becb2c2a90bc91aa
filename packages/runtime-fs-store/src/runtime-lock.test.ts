import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Runtime, type StoreOpenRequest } from '@worker-runtime/core';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createFsStore } from './fs-store.js';
import { tempDir } from './test-support/temp-dir.js';

const holder = new URL('./test-support/hold-lock.mjs', import.meta.url).pathname;
let dir: string;
let cleanup: () => Promise<void>;
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('build the package first');
});
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await cleanup();
});

const request: StoreOpenRequest = {
  runtime_id: 'rt',
  generate_id: () => 'unused',
  now: new Date().toISOString(),
  max_diagnostics: 100,
  max_retained_events: 1000,
};

/** Starts a real process that holds the runtime's lock; resolves once it has it. */
async function startHolder(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [holder, dir, 'rt'], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  const deadline = Date.now() + 10_000;
  while (!out.includes('ready')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('lock holder did not start');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return child;
}

/** The pid of a process that has exited (so it is certainly not running). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid as number;
}

describe('one owner per runtime directory', () => {
  test('a second open while another process holds the lock fails at once with store_locked naming its pid', async () => {
    const child = await startHolder();
    const error = await createFsStore({ data_dir: dir })
      .open(request)
      .then(
        () => null,
        (e: { code: string; message: string; details: unknown }) => e,
      );
    expect(error?.code).toBe('store_locked');
    expect(error?.message).toContain(String(child.pid));
    expect(error?.message).not.toContain(dir);
    expect(error?.details).toEqual({ holder_pid: child.pid });
    child.stdin?.end();
    await once(child, 'exit');
    // Released on close: now it opens.
    const store = createFsStore({ data_dir: dir });
    await store.open(request);
    await store.close();
  });

  test('a second store in the same process is refused too', async () => {
    const first = createFsStore({ data_dir: dir });
    await first.open(request);
    await expect(createFsStore({ data_dir: dir }).open(request)).rejects.toMatchObject({ code: 'store_locked' });
    await first.close();
  });

  test('a lock left by a dead process is taken over with a diagnostic', async () => {
    const first = createFsStore({ data_dir: dir });
    await first.open(request);
    await first.close();
    const pid = await deadPid();
    const lock = join(dir, 'runtimes', 'rt', 'LOCK');
    await writeFile(lock, `${JSON.stringify({ pid, acquired_at: new Date().toISOString() })}\n`);
    const runtime = await Runtime.open({ runtime_id: 'rt', store: createFsStore({ data_dir: dir }) });
    const diagnostic = (await runtime.diagnostics()).find((d) => d.code === 'store_stale_lock_recovered');
    expect(diagnostic?.severity).toBe('warning');
    expect(diagnostic?.message).toContain(String(pid));
    expect(JSON.parse(await readFile(lock, 'utf8')).pid).toBe(process.pid);
    await runtime.close();
    expect(existsSync(lock)).toBe(false);
  });
});
