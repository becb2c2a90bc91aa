import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseCommandArgs } from './args.js';
import type { CliIo, StopSignal } from './io.js';
import { runServe } from './serve.js';
import { parseServeConfig } from './serve-config.js';
import { SERVE_OPTIONS } from './serve-options.js';
import { killAllCli, startCli } from './test-support/cli-process.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-runtime-startup-'));
});

afterEach(async () => {
  killAllCli();
  await rm(dir, { recursive: true, force: true });
});

const dataDir = () => join(dir, 'data');
const runtimeDir = () => join(dataDir(), 'runtimes', 'rt');
const lockFile = () => join(runtimeDir(), 'LOCK');
const fifo = () => join(runtimeDir(), 'runtime.json');

/**
 * Makes the fs store's open hang, deterministically: its runtime.json is a named pipe, so reading it
 * blocks (after the lock was taken) until {@link unblockOpen} opens the other end.
 */
async function hangingDataDir(): Promise<void> {
  await mkdir(runtimeDir(), { recursive: true });
  execFileSync('mkfifo', [fifo()]);
}

/** Opens the pipe's write end and closes it: the store reads an empty runtime.json and goes on. */
function unblockOpen(): Promise<void> {
  return writeFile(fifo(), '');
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A CliIo whose signals the test sends and whose output it reads. */
function testIo(): { io: CliIo; output: { stdout: string; stderr: string }; send: (signal: StopSignal) => void } {
  const output = { stdout: '', stderr: '' };
  let handler: ((signal: StopSignal) => void) | null = null;
  const io: CliIo = {
    stdout: (text) => {
      output.stdout += text;
    },
    stderr: (text) => {
      output.stderr += text;
    },
    readStdin: async () => '',
    env: {},
    cwd: dir,
    onSignal(onSignal) {
      handler = onSignal;
      return () => {
        handler = null;
      };
    },
    exit(code) {
      throw new Error(`unexpected exit ${code}`);
    },
  };
  return { io, output, send: (signal) => handler?.(signal) };
}

async function hangingServe(grace: number): Promise<{
  result: Promise<number>;
  output: { stdout: string; stderr: string };
  send: (signal: StopSignal) => void;
}> {
  const argv = ['--port', '0', '--store', 'fs', '--data-dir', dataDir(), '--runtime-id', 'rt'];
  const config = await parseServeConfig({ args: parseCommandArgs(argv, SERVE_OPTIONS, 'serve'), env: {}, cwd: dir });
  const { io, output, send } = testIo();
  const result = runServe(config, io, { startupAbortGraceMs: grace });
  await until(() => existsSync(lockFile()), 'the store lock');
  return { result, output, send };
}

const warnings = (stderr: string) =>
  stderr
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { level: string; msg: string; signal?: string });

describe.skipIf(process.platform === 'win32')('a signal while serve is starting', () => {
  test('aborts startup with 130 and one line even though the store open never finishes', async () => {
    await hangingDataDir();
    const { result, output, send } = await hangingServe(50);
    try {
      send('SIGINT');
      expect(await result).toBe(130);
      expect(output.stdout).toBe('');
      expect(warnings(output.stderr)).toEqual([
        expect.objectContaining({ level: 'warn', msg: 'interrupted while starting', signal: 'SIGINT' }),
      ]);
      // The open is still blocked, holding the lock.
      expect(existsSync(lockFile())).toBe(true);
    } finally {
      await unblockOpen();
    }
    // Once the abandoned open finishes, what it acquired is released.
    await until(() => !existsSync(lockFile()), 'the lock to be released');
  });

  test('releases the store lock when the open finishes within the grace, and exits 143 on SIGTERM', async () => {
    await hangingDataDir();
    const { result, output, send } = await hangingServe(60_000);
    send('SIGTERM');
    await unblockOpen();
    expect(await result).toBe(143);
    expect(existsSync(lockFile())).toBe(false);
    expect(output.stdout).toBe('');
    expect(warnings(output.stderr).map((line) => line.msg)).toEqual(['interrupted while starting']);
  });

  test('the binary exits 130 with no ready line when SIGINT arrives before it is ready', async () => {
    await hangingDataDir();
    const serve = startCli(['serve', '--port', '0', '--store', 'fs', '--data-dir', dataDir(), '--runtime-id', 'rt']);
    await until(() => existsSync(lockFile()), 'the store lock');
    serve.child.kill('SIGINT');
    await serve.waitFor((output) => output.stderr.includes('"interrupted while starting"'));
    // Node cannot exit while a thread is blocked in open(2): let the pipe open, whenever it gives up.
    await unblockOpen();
    const exit = await serve.exited;
    expect(exit.code).toBe(130);
    expect(exit.stdout).toBe('');
    expect(warnings(exit.stderr).map((line) => line.msg)).toEqual(['interrupted while starting']);
  });
});
