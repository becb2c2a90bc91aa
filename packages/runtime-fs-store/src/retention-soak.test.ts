import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { useTempDir } from './test-support/temp-dir.js';

const temp = useTempDir();
const child = new URL('./test-support/retention-soak-child.mjs', import.meta.url).pathname;
// The test runs 20k inputs on memory and 8k on fs (each fs delete checkpoints) to stay under a
// minute on a loaded 2-core machine; `node --expose-gc src/test-support/retention-soak-child.mjs
// <dir> 200000 50 fs` is the 200k run (docs/fs-store.md, "Retention"); it also trims the event log
// to about the newest 2,000 events (retention.max_retained_events), so the whole data dir stays bounded.
const INPUTS = { memory: 20_000, fs: 8_000 } as const;

interface Sample {
  sent: number;
  heap: number;
  workers_dir: number;
  journal: number;
  events: number;
  data_dir: number;
  live_workers: { total: number };
}

async function soak(kind: 'memory' | 'fs'): Promise<Sample[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', child, temp.dir, String(INPUTS[kind]), '50', kind],
    { timeout: 120_000 },
  );
  return (JSON.parse(stdout) as { samples: Sample[] }).samples;
}

beforeAll(() => {
  if (!existsSync(new URL('../dist/index.js', import.meta.url))) throw new Error('build the package first');
});

describe('retention keeps a long run bounded', () => {
  test.each(['memory', 'fs'] as const)(
    'inputs through workers deleted by stopped_worker_ttl_ms: on the %s store the heap and worker data stay bounded',
    async (kind) => {
      const samples = await soak(kind);
      const [first, , , last] = samples as [Sample, Sample, Sample, Sample];
      expect(last.sent).toBe(INPUTS[kind]);
      // The sweep keeps up: only the few workers of the last cycles are still around.
      expect(last.live_workers.total).toBeLessThan(20);
      // The heap holds live state (and at most max_retained_events events in memory), not history.
      expect(last.heap - first.heap).toBeLessThan(6 * 1024 * 1024);
      if (kind === 'fs') {
        // Deleted workers' directories are gone and the journal is folded away by checkpoints.
        expect(last.workers_dir).toBeLessThan(Math.max(2 * first.workers_dir, 512 * 1024));
        expect(last.journal).toBeLessThan(16 * 1024 * 1024);
        // max_retained_events 2,000: the event log holds at most 4,000 short events (< 400 B + a
        // 16 B index entry each), however many inputs went through.
        expect(last.events).toBeLessThan(4000 * (400 + 16));
        // The rest of the data dir is checkpoint.json: at most max_diagnostics (1,000) recent
        // diagnostics and one short tombstone per deleted worker.
        const rest = last.data_dir - last.events - last.workers_dir - last.journal;
        expect(rest).toBeLessThan(1000 * 600 + (INPUTS.fs / 50) * 32 + 4096);
      }
    },
    150_000,
  );
});
