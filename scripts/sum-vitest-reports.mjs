#!/usr/bin/env node
// Sums vitest JSON reports (one per package) into the single line CI reads: "N passed, N failed, N skipped".
// Exits non-zero when any test failed, a suite failed to load, or no report/test exists at all.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.vitest-reports';
let passed = 0;
let failed = 0;
let skipped = 0;
let brokenSuites = 0;
let files = [];
try {
  files = readdirSync(dir).filter((name) => name.endsWith('.json'));
} catch {
  files = [];
}
for (const name of files) {
  const report = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A test file that fails to import has no tests but a failed suite.
  brokenSuites += (report.testResults ?? []).filter(
    (suite) => suite.status === 'failed' && (suite.assertionResults ?? []).length === 0,
  ).length;
}
failed += brokenSuites;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
