import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { describe, expect, test } from 'vitest';

const run = promisify(execFile);

/** Publishability checks every package runs as part of its tests: publint and arethetypeswrong. */
export function describePackageChecks(packageDir: string): void {
  describe('package is publishable', () => {
    test('publint reports nothing', async () => {
      const pkg = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));
      const { messages } = await publint({ pkgDir: packageDir, strict: true, level: 'suggestion' });
      expect(messages.map((m) => formatMessage(m, pkg))).toEqual([]);
    });

    test('arethetypeswrong finds no problem (esm-only)', async () => {
      const bin = join(packageDir, '..', '..', 'node_modules', '.bin', 'attw');
      const result = await run(bin, ['--pack', '.', '--profile', 'esm-only', '--format', 'json'], {
        cwd: packageDir,
        maxBuffer: 16 * 1024 * 1024,
      }).catch((error: { stdout?: string; code?: number }) => error);
      const report = JSON.parse(String(result.stdout));
      const problems = Object.values(report.analysis?.problems ?? {}).flat();
      expect(problems).toEqual([]);
    }, 60_000);
  });
}
