import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type ProfileInput,
  type RunRecord,
  Runtime,
  type RuntimeOptions,
  type TranscriptEntry,
  type WatchItem,
} from '@worker-runtime/core';
import { afterEach, beforeEach } from 'vitest';
import { createBuiltinEngines } from './builtin-engines.js';

/** True while `pid` runs (a zombie, exited but not reaped, counts as gone). Linux `/proc` based. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  ms = 15_000,
): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/** A Runtime with this package's engines and the given profiles (memory store). */
export function openRuntime(
  profiles: Record<string, unknown>,
  options: Omit<RuntimeOptions, 'profiles'> = {},
): Promise<Runtime> {
  // Tests hand in deliberately broken profiles too: Runtime.open is what checks them.
  return Runtime.open({
    engines: createBuiltinEngines(),
    profiles: profiles as Record<string, ProfileInput>,
    ...options,
  });
}

/**
 * Per test: a fresh temp dir (`dir()`), and `open`, which opens a Runtime like {@link openRuntime}
 * (closing the test's previous one); the Runtime is closed and the dir removed after the test.
 */
export function useRuntimePerTest(prefix: string): {
  dir: () => string;
  open: (profiles: Record<string, unknown>, options?: Omit<RuntimeOptions, 'profiles'>) => Promise<Runtime>;
} {
  let runtime: Runtime | undefined;
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir: () => dir,
    async open(profiles, options) {
      await runtime?.close();
      runtime = undefined;
      runtime = await openRuntime(profiles, options);
      return runtime;
    },
  };
}

/** jsonl output streaming two entries: deltas, the entry they make, deltas, the next entry. */
export const TWO_STREAMED_ENTRIES: readonly object[] = [
  { delta: 'Hel' },
  { delta: 'lo' },
  { role: 'assistant', content: 'Hello' },
  { delta: 'Bye' },
  { role: 'assistant', content: 'Bye' },
];

/** Node.js source of a program that prints `lines` as jsonl, then exits. */
export function printingJsonl(lines: readonly unknown[]): string {
  return `for (const line of ${JSON.stringify(lines)}) console.log(JSON.stringify(line));`;
}

/** Pulls watch items until a run's terminal event (included). */
export async function untilRunEnds(watch: AsyncIterable<WatchItem>): Promise<WatchItem[]> {
  const items: WatchItem[] = [];
  for await (const item of watch) {
    items.push(item);
    if (item.type === 'event' && item.event.kind.startsWith('run_') && item.event.kind !== 'run_started') break;
  }
  return items;
}

/** Creates a Worker on `profile` and sends it one user input; returns the ids. */
export async function startRun(
  runtime: Runtime,
  profile: string,
  content: string,
): Promise<{ worker_id: string; run_id: string }> {
  const worker = await runtime.createWorker({
    intent: { kind: 'assistant' },
    profile: { kind: 'named', value: profile },
  });
  const ack = await runtime.sendInput(worker.worker_id, { kind: 'user', content });
  return { worker_id: worker.worker_id, run_id: ack.run_id as string };
}

/** Waits for a run to reach a terminal status. */
export async function finishedRun(runtime: Runtime, worker_id: string, run_id: string): Promise<RunRecord> {
  const run = await runtime.getRun(worker_id, run_id, { wait_ms: 30_000 });
  if (run.status === 'running' || run.status === 'queued') throw new Error(`run ${run_id} is still ${run.status}`);
  return run;
}

/** The whole transcript of a Worker. */
export async function entries(runtime: Runtime, worker_id: string): Promise<TranscriptEntry[]> {
  return (await runtime.transcript(worker_id, { limit: 1000 })).items;
}
