import { type Diagnostic, RuntimeError } from '@worker-runtime/core';
import { type EventFiles, eventFiles, slotOf, toSlots } from './event-log.js';
import type { FsLike } from './fs-like.js';
import { type RuntimeLayout, WORKER_FILES } from './layout.js';
import { readLines, readLinesById } from './log-reads.js';
import { rebuildIndex, writeIndexPrefix } from './log-repair.js';
import { storeDiagnostic } from './store-diagnostics.js';
import type { StoreState } from './store-state.js';
import { keyOf, workerEvents } from './worker-rebuild.js';
import type { WorkerUnit } from './worker-unit.js';

/**
 * Reads of the indexed logs that heal a damaged index on the way: when an index does not frame
 * whole lines (a flipped byte that open's length check cannot see), the readable part of the index
 * is rebuilt from its log, in place, and the read is retried once. The rewrite covers only entries
 * already readable, so it never overlaps appends in flight (they write past them).
 */
export class IndexedReads {
  readonly #fs: FsLike;
  readonly #layout: RuntimeLayout;
  readonly #state: StoreState;
  readonly #report: (diagnostic: Diagnostic) => void;

  constructor(fs: FsLike, layout: RuntimeLayout, state: StoreState, report: (diagnostic: Diagnostic) => void) {
    this.#fs = fs;
    this.#layout = layout;
    this.#state = state;
    this.#report = report;
  }

  /** Transcript lines `[start, end)` of a worker. */
  async transcript(unit: WorkerUnit, start: number, end: number): Promise<string[]> {
    const paths = {
      data: this.#layout.workerFile(unit.worker_id, WORKER_FILES.transcript),
      index: this.#layout.workerFile(unit.worker_id, WORKER_FILES.transcriptIndex),
    };
    return this.#healed(
      () => readLines(this.#fs, paths, start, end),
      async () => {
        const { readable_transcript_count: count, readable_transcript_bytes: bytes } = unit;
        await rebuildIndex(this.#fs, paths, count, bytes, keyOf('sequence'), { in_place: true });
        return `the transcript index of worker ${unit.worker_id}`;
      },
    );
  }

  /**
   * The first id still in the event log; a cursor before it has expired.
   * @throws RuntimeError `cursor_expired` (details `oldest_available`) when `after` is before the oldest retained event
   */
  assertRetained(after: number): void {
    const base = this.#state.events_base;
    if (after >= base) return;
    throw new RuntimeError('cursor_expired', `events after ${after} are no longer retained`, {
      details: { oldest_available: base + 1 },
    });
  }

  /** Lines of events `after + 1 ..` (at most `limit`, none past the readable end, none trimmed). */
  events(after: number, limit: number): Promise<string[]> {
    return this.#untrimmed(async (files) => {
      const events = this.#state.readable_events;
      const from = Math.max(after, files.base);
      const slots = toSlots(events, files.base);
      return this.#healed(
        () => readLines(this.#fs, files, from - files.base, Math.min(from + limit, events.count) - files.base),
        async () => {
          await rebuildIndex(this.#fs, files, slots.count, slots.bytes, slotOf(files.base), { in_place: true });
          return 'the event index';
        },
      );
    });
  }

  /** Lines of up to `limit` events naming the worker after `after` (trimmed events skipped). */
  workerEvents(unit: WorkerUnit, after: number, limit: number): Promise<string[]> {
    const ids = this.#layout.workerFile(unit.worker_id, WORKER_FILES.eventIds);
    return this.#untrimmed((files) => {
      const read = () => {
        const query = {
          after: Math.max(after, files.base),
          limit,
          id_count: unit.readable_event_ids,
          max_id: this.#state.readable_events.count,
          base: files.base,
        };
        return readLinesById(this.#fs, { ...files, ids }, query);
      };
      return this.#healed(read, async () => {
        const count = unit.readable_event_ids;
        const found = await workerEvents(this.#fs, files.data, this.#state.readable_events, unit.worker_id);
        if (found.length >= count) {
          await writeIndexPrefix(
            this.#fs,
            ids,
            found.slice(0, count).map((event) => event.id),
          );
          return `the event index of worker ${unit.worker_id}`;
        }
        // Not enough events left to rebuild from: the global index is the one to heal first.
        const slots = toSlots(this.#state.readable_events, files.base);
        await rebuildIndex(this.#fs, files, slots.count, slots.bytes, slotOf(files.base), { in_place: true });
        return 'the event index';
      });
    });
  }

  /** Runs a read of the event log again when a trim replaced its files meanwhile (the old ones are removed). */
  async #untrimmed(read: (files: EventFiles) => Promise<string[]>): Promise<string[]> {
    for (;;) {
      const base = this.#state.events_base;
      const lines = await read(eventFiles(this.#layout, base));
      if (this.#state.events_base === base) return lines;
    }
  }

  async #healed(read: () => Promise<string[] | null>, heal: () => Promise<string>): Promise<string[]> {
    const lines = await read();
    if (lines !== null) return lines;
    const what = await heal();
    this.#report(storeDiagnostic('warning', 'store_index_rebuilt', `${what} was damaged; it was rebuilt from the log`));
    return (await read()) ?? [];
  }
}
