import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();
const child = new URL('./test-support/soak-child.mjs', import.meta.url).pathname;
// 20k here keeps the test near 10 s on a loaded 2-core machine; `node --expose-gc
// src/test-support/soak-child.mjs <dir> 100000 32` runs the 100k soak of docs/performance.md.
const INPUTS = 20_000;

beforeAll(() => {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('build the package first');
});

describe('memory is bounded by live state', () => {
  test(`${INPUTS} inputs with idempotency keys leave the heap about where it started`, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', child, temp.dir, String(INPUTS), '32'],
      {
        timeout: 120_000,
      },
    );
    const { start, end } = JSON.parse(stdout) as { start: number; end: number };
    // Keeping every idempotency record (the old behaviour) grew the heap by ~550 B per keyed input,
    // about 10 MB here; the key index costs ~24 B per key.
    expect(end - start).toBeLessThan(4 * 1024 * 1024);
  }, 150_000);
});
