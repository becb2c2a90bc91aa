import { defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * The one vitest config every package uses. When VITEST_REPORT_DIR is set (CI does), each package
 * also writes a JSON report there so `.ci/run` can sum passed/failed over all packages.
 */
export function packageTestConfig(packageName: string): ViteUserConfig {
  const reportDir = process.env.VITEST_REPORT_DIR;
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts'],
      environment: 'node',
      testTimeout: 30_000,
      hookTimeout: 30_000,
      reporters: reportDir ? ['default', 'json'] : ['default'],
      ...(reportDir ? { outputFile: { json: `${reportDir}/${packageName}.json` } } : {}),
    },
  });
}
