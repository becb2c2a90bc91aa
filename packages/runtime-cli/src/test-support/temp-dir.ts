import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { killAllCli } from './cli-process.js';

/**
 * A fresh temp directory per test (`dir()`), removed afterwards together with any CLI process the
 * test left running.
 */
export function useCliTempDir(prefix: string): () => string {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    killAllCli();
    await rm(dir, { recursive: true, force: true });
  });
  return () => dir;
}
