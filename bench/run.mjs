// pnpm bench: every figure side by side with its same-run baseline; the last stdout line is one JSON object.
//
//   node bench/run.mjs [--only http_get,reopen] [--cpu-prof]
//
// Each figure runs in its own child process with a hard time limit. A figure that cannot be measured
// (a package not built, a failure, a timeout) is reported as null with the reason on stderr.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFigureScript } from './lib/child.mjs';
import { fmt, REPO_ROOT } from './lib/figure.mjs';

/** The figures of issues 7 and 14, in the order of the final JSON object, with their targets. */
const FIGURES = [
  { key: 'http_get', target: { min: 0.75 } },
  { key: 'input_cycles_vs_fsync', target: { min: 1.5 } },
  { key: 'input_cycles_vs_sqlite', target: { min: 1.0 } },
  { key: 'transcript_page', target: { max: 1.5 } },
  { key: 'reopen', target: { max: 1.5 } },
  { key: 'heap_per_idle_worker', target: { max: 1.0 } },
  { key: 'pg_input_cycles', target: { min: 1.5 } },
];

const CORE = 'runtime-core';
const FS = 'runtime-fs-store';
const HTTP = 'runtime-http';
const PG = 'runtime-pg-store';

/**
 * Child scripts in run order: the package dirs they load, and `needs`, a step whose result they take.
 */
const STEPS = [
  { script: 'http-get.mjs', keys: ['http_get'], packages: [CORE, HTTP], timeoutMs: 90_000 },
  {
    script: 'input-cycles.mjs',
    keys: ['input_cycles_vs_fsync', 'input_cycles_vs_sqlite'],
    packages: [CORE, FS],
    timeoutMs: 120_000,
  },
  {
    script: 'scale-dataset.mjs',
    keys: ['transcript_page', 'reopen'],
    packages: [CORE, FS],
    produces: 'dataset',
    timeoutMs: 240_000,
  },
  {
    script: 'transcript-page.mjs',
    keys: ['transcript_page'],
    packages: [CORE, FS],
    needs: 'dataset',
    timeoutMs: 90_000,
  },
  { script: 'reopen.mjs', keys: ['reopen'], packages: [CORE, FS], needs: 'dataset', timeoutMs: 120_000 },
  { script: 'heap-per-idle-worker.mjs', keys: ['heap_per_idle_worker'], packages: [CORE, FS], timeoutMs: 240_000 },
  { script: 'pg-input-cycles.mjs', keys: ['pg_input_cycles'], packages: [CORE, PG], timeoutMs: 120_000 },
];

const buildAttempted = new Set();

/**
 * Builds a package whose dist is missing (once per run), e.g. one still being written when
 * `turbo run build` skipped it. The figure script reports the figure as null if it still is not built.
 */
function ensureBuilt(dir) {
  if (buildAttempted.has(dir) || existsSync(join(REPO_ROOT, 'packages', dir, 'dist', 'index.js'))) return;
  buildAttempted.add(dir);
  process.stderr.write(`packages/${dir} has no dist: trying pnpm --filter ./packages/${dir} build\n`);
  const result = spawnSync('pnpm', ['--filter', `./packages/${dir}`, 'build'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 120_000,
  });
  if (result.status !== 0) process.stderr.write(`packages/${dir} did not build; its figures will be null\n`);
}

function parseArgs(argv) {
  const args = { only: null, cpuProf: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') args.only = new Set((argv[++i] ?? '').split(','));
    else if (argv[i] === '--cpu-prof') args.cpuProf = true;
    else throw new Error(`unknown argument ${argv[i]} (use --only key,key and --cpu-prof)`);
  }
  return args;
}

function verdict(value, target) {
  if (!value) return 'NOT MEASURED';
  const met = target.min !== undefined ? value.ratio >= target.min : value.ratio <= target.max;
  return met ? 'met' : 'MISSED';
}

function targetText(target) {
  return target.min !== undefined ? `target ≥ ${target.min}` : `target ≤ ${target.max}`;
}

const args = parseArgs(process.argv.slice(2));
const wanted = (keys) => args.only === null || keys.some((key) => args.only.has(key));
const tmp = mkdtempSync(join(tmpdir(), 'worker-runtime-bench-'));
const cleanup = () => rmSync(tmp, { recursive: true, force: true });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

// Outside the repository and outside `tmp`, so profiles survive the run and never get committed.
const profileDir = join(tmpdir(), 'worker-runtime-bench-profiles');
if (args.cpuProf) mkdirSync(profileDir, { recursive: true });
const nodeArgs = args.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];

const values = new Map();
const lines = new Map();
const reasons = new Map();
const produced = new Map();
const started = Date.now();
try {
  for (const step of STEPS) {
    if (!wanted(step.keys)) continue;
    if (step.needs && !produced.has(step.needs)) {
      for (const key of step.keys) if (!reasons.has(key)) reasons.set(key, `${step.needs} was not produced`);
      continue;
    }
    for (const dir of step.packages) ensureBuilt(dir);
    process.stderr.write(`\n▶ ${step.script}\n`);
    const options = {
      tmp,
      ...(step.needs ? { [step.needs]: produced.get(step.needs) } : {}),
      ...(args.cpuProf ? { profile_dir: profileDir } : {}),
    };
    const outcome = await runFigureScript(join(REPO_ROOT, 'bench', 'figures', step.script), options, {
      timeoutMs: step.timeoutMs,
      nodeArgs,
    });
    for (const result of outcome.results) {
      if (result.key === step.produces) {
        if (result.value) produced.set(step.produces, result.value);
        else for (const key of step.keys) reasons.set(key, `${step.produces}: ${result.reason}`);
        continue;
      }
      values.set(result.key, result.value);
      if (result.line) lines.set(result.key, result.line);
      if (result.reason) reasons.set(result.key, result.reason);
    }
    const failure = outcome.timedOut
      ? `${step.script} exceeded its ${step.timeoutMs / 1000} s limit`
      : outcome.code !== 0
        ? `${step.script} exited with ${outcome.code}${outcome.error ? ` (${outcome.error})` : ''}`
        : null;
    if (failure) {
      for (const key of step.keys) if (!values.get(key) && !reasons.has(key)) reasons.set(key, failure);
      if (step.produces && !produced.has(step.produces)) {
        for (const key of step.keys) if (!reasons.has(key)) reasons.set(key, failure);
      }
    }
  }
} finally {
  cleanup();
}

process.stdout.write(
  `\nworker-runtime bench (${Math.round((Date.now() - started) / 1000)} s; ratios matter, not absolutes)\n`,
);
const summary = {};
for (const { key, target } of FIGURES) {
  if (!wanted([key])) continue;
  const value = values.get(key) ?? null;
  summary[key] = value;
  if (value) {
    process.stdout.write(
      `${key.padEnd(24)} ours ${fmt(value.ours)} ${value.unit} · baseline ${fmt(value.baseline)} ${value.unit} · ratio ${fmt(value.ratio)} (${targetText(target)}: ${verdict(value, target)})\n`,
    );
    if (lines.has(key)) process.stdout.write(`${''.padEnd(24)} ${lines.get(key)}\n`);
  } else {
    const reason = reasons.get(key) ?? 'no result';
    process.stdout.write(`${key.padEnd(24)} not measured (${targetText(target)})\n`);
    process.stderr.write(`${key}: not measured: ${reason}\n`);
  }
}
if (args.cpuProf) process.stderr.write(`CPU profiles: ${profileDir} (read with node bench/profile-summary.mjs FILE)\n`);
process.stdout.write(`${JSON.stringify(summary)}\n`);
