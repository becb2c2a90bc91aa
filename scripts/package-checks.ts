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

    // The packages are ESM-only for Node 20+: a CJS `require` of them and the pre-exports node10
    // resolution are out of scope, every modern resolution (node16 from ESM, bundler) must be clean.
    test('arethetypeswrong finds no problem for ESM consumers', async () => {
      const bin = join(packageDir, '..', '..', 'node_modules', '.bin', 'attw');
      const args = [
        '--pack',
        '.',
        '--profile',
        'node16',
        '--ignore-rules',
        'cjs-resolves-to-esm',
        '--format',
        'table-flipped',
      ];
      const result = await run(bin, args, { cwd: packageDir, maxBuffer: 16 * 1024 * 1024 }).then(
        (ok) => ({ code: 0, output: ok.stdout }),
        (error: { code?: number; stdout?: string; stderr?: string }) => ({
          code: error.code ?? 1,
          output: `${error.stdout}${error.stderr}`,
        }),
      );
      expect(result.code, result.output).toBe(0);
    }, 60_000);
  });
}
