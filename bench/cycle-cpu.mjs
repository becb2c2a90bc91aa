// CPU per input cycle of core alone: a Runtime on the memory store (or `fs` for the fs store) with
// 64 workers doing sendInput → getRun(wait), as in the input-cycle figures. Prints cycles/s, the
// main thread's CPU µs per cycle (/proc/self/task, Linux) and the whole process's (process.cpuUsage).
// For a before/after of one change; add --cpu-prof to node for a profile (bench/profile-summary.mjs).
//
//   node bench/cycle-cpu.mjs [memory|fs] [seconds=3] [rounds=3]
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerCycles } from './lib/cycles.mjs';
import { loadPackage } from './lib/figure.mjs';

const [storeKind = 'memory', secondsArg = '3', roundsArg = '3'] = process.argv.slice(2);
const seconds = Number(secondsArg);
const rounds = Number(roundsArg);

/** The main thread's user + system CPU in µs (its tid is the pid); clock ticks are 10 ms. */
function mainThreadCpu() {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5) (utime, stime); the slice starts at field 3.
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const core = await loadPackage('@worker-runtime/core');
let dir;
let store;
if (storeKind === 'fs') {
  const { createFsStore } = await loadPackage('@worker-runtime/fs-store');
  dir = await mkdtemp(join(tmpdir(), 'cycle-cpu-'));
  store = createFsStore({ data_dir: dir });
}
const runtime = await core.Runtime.open(store ? { store } : {});
try {
  const measure = await workerCycles(runtime, 64);
  await measure(1000);
  for (let round = 0; round < rounds; round++) {
    const main = mainThreadCpu();
    const all = process.cpuUsage();
    const start = performance.now();
    const rate = await measure(seconds * 1000);
    const cycles = rate * ((performance.now() - start) / 1000);
    const { user, system } = process.cpuUsage(all);
    const mainUs = (mainThreadCpu() - main) / cycles;
    const allUs = (user + system) / cycles;
    process.stdout.write(
      `${storeKind}: ${Math.round(rate)} cycles/s, CPU µs per cycle: main thread ${mainUs.toFixed(1)}, process ${allUs.toFixed(1)}\n`,
    );
  }
} finally {
  await runtime.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}
