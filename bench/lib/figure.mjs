// What every figure script shares: loading workspace packages, reporting results to run.mjs, statistics.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/ sits directly under it). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Prefix of the one stdout line per figure that run.mjs parses; everything else is human output. */
export const RESULT_PREFIX = 'BENCH_RESULT ';

const PACKAGE_DIRS = {
  '@worker-runtime/core': 'runtime-core',
  '@worker-runtime/fs-store': 'runtime-fs-store',
  '@worker-runtime/http': 'runtime-http',
  '@worker-runtime/pg-store': 'runtime-pg-store',
};

/**
 * Imports a workspace package from its built dist. Throws an Error whose message is the reason a
 * figure cannot be measured (not built yet, or its build does not load).
 */
export async function loadPackage(name) {
  const dir = PACKAGE_DIRS[name];
  const entry = join(REPO_ROOT, 'packages', dir, 'dist', 'index.js');
  if (!existsSync(entry)) {
    throw new Error(`${name} is not built (packages/${dir}/dist/index.js is missing; run pnpm --filter ${name} build)`);
  }
  try {
    return await import(name);
  } catch (error) {
    throw new Error(`${name} does not load: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Reads the JSON options run.mjs passes as the only argument. */
export function figureOptions() {
  return JSON.parse(process.argv[2] ?? '{}');
}

/** A figure value as the final JSON line holds it. */
export function figure(ours, baseline, unit) {
  return { ours: round(ours), baseline: round(baseline), ratio: round(ours / baseline, 3), unit };
}

/** Reports one figure to run.mjs: `value` is a {@link figure} or null (then `reason` says why). */
export function emit(key, value, { line = '', reason = '' } = {}) {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ key, value, line, reason })}\n`);
}

/** Progress for humans; stderr so stdout stays parseable. */
export function progress(message) {
  process.stderr.write(`    · ${message}\n`);
}

/** The message of anything thrown, without a stack. */
export function reasonOf(error) {
  return error instanceof Error ? error.message : String(error);
}

export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Rounds to `digits` decimals; keeps more for small numbers so latencies in µs stay visible. */
export function round(value, digits = value !== 0 && Math.abs(value) < 10 ? 4 : 1) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** `12,345.6` for human lines. */
export function fmt(value) {
  return value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) < 10 ? 3 : 1 });
}

/** Milliseconds from a `process.hrtime.bigint()` start. */
export function msSince(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}
