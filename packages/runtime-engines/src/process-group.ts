import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

const POLL_MS = 25;
/** How long to wait for SIGKILL to take effect (a process in uninterruptible sleep dies late). */
const KILL_WAIT_MS = 5000;

/** Sends `signal` to every process in the group `pgid`; a group that is already gone is fine. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left to signal. EPERM: a member changed its credentials; nothing we can do.
  }
}

/** The state letter and process group of a process, from `/proc/<pid>/stat` (Linux). */
function parseStat(stat: string): { state: string; pgrp: number } {
  // The command name may contain spaces and parentheses; the fields after the last ')' do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
}

/**
 * True while some process of group `pgid` still runs. `kill(-pgid, 0)` alone also counts zombies,
 * and orphaned zombies may never be reaped when PID 1 does not reap (common in containers), so on
 * Linux the members are looked up in `/proc` and zombies are ignored.
 */
export async function groupIsAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return true;
  }
  const stats = await Promise.all(
    names.filter((name) => /^\d+$/.test(name)).map((name) => readFile(`/proc/${name}/stat`, 'utf8').catch(() => '')),
  );
  return stats.some((stat) => {
    if (!stat) return false;
    const { state, pgrp } = parseStat(stat);
    return pgrp === pgid && state !== 'Z' && state !== 'X';
  });
}

async function waitUntilGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (!(await groupIsAlive(pgid))) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await delay(Math.min(POLL_MS, left));
  }
}

/**
 * Ends every process of group `pgid`: SIGTERM (and SIGCONT, so a stopped process sees it), then
 * SIGKILL once `graceMs` has passed. Resolves when no member runs any more.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  signalGroup(pgid, 'SIGCONT');
  if (await waitUntilGone(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitUntilGone(pgid, KILL_WAIT_MS);
}
