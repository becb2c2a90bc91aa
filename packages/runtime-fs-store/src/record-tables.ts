import {
  type IdempotencyRecord,
  IdempotencyRecordSchema,
  type RunRecord,
  RuntimeError,
  StoredRunSchema,
} from '@worker-runtime/core';
import type { FsLike } from './fs-like.js';
import { KeyOffsets, Lru } from './key-offsets.js';
import { type RuntimeLayout, WORKER_FILES } from './layout.js';
import { parseLine, readLineAt, scanLines } from './log-reads.js';
import { jsonField } from './worker-rebuild.js';
import { type RunTable, SNAPSHOT_DUE, type WorkerUnit } from './worker-unit.js';

/** How many workers keep their run table loaded at once. */
const MAX_TABLE_WORKERS = 64;
/** How many idempotency records stay cached (the rest are read from disk when asked for). */
const MAX_CACHED_RECORDS = 1024;
/** Events read per page when a damaged idempotency log makes a key be looked up in the event log. */
const EVENT_PAGE = 512;

/** What the tables need of the open store. */
export interface TableContext {
  layout: RuntimeLayout;
  /** Resolves when every applied record is written and readable. */
  published: () => Promise<void>;
  /** Lines of up to `limit` events naming the worker after `after`. */
  worker_events: (unit: WorkerUnit, after: number, limit: number) => Promise<string[]>;
  /** Runs a read, turning file errors into `store_unavailable`. */
  read: <T>(body: () => Promise<T>) => Promise<T>;
  /** Reports a record that could not be read (skipped). */
  corrupt: (what: string) => void;
  /** Reports that a worker's idempotency log is damaged. */
  damaged: (worker_id: string) => void;
  /** The idempotency expiry cutoff (`expireIdempotency`), if any. */
  expired_before: () => string | null;
}

/**
 * Runs and idempotency records, read from disk on demand. A worker's run table is built on first
 * use by scanning its log once, kept current by later writes, and dropped when more than
 * {@link MAX_TABLE_WORKERS} workers have one. Idempotency records are never held per worker: a
 * compact key index (hash and file offset, about 24 B per key, no strings) finds them on disk and
 * a small LRU keeps the recent ones; the index stays, so a keyed input never rescans the log.
 */
export class RecordTables {
  readonly #fs: FsLike;
  readonly #ctx: TableContext;
  readonly #loading = new Map<string, Promise<void>>();
  readonly #records = new Lru<string, IdempotencyRecord>(MAX_CACHED_RECORDS);
  readonly #loadedRuns = new Lru<WorkerUnit, true>(MAX_TABLE_WORKERS, (unit) => {
    unit.runs = null;
  });
  /** Counts the starts and ends of idempotency log replacements: a lookup that spanned one starts over. */
  #rewrites = 0;
  /** Set while a log is being replaced: lookups wait for it. */
  #replacing: Promise<void> | null = null;

  constructor(fs: FsLike, ctx: TableContext) {
    this.#fs = fs;
    this.#ctx = ctx;
  }

  /** A worker's runs: latest state by id, in queue order. */
  async runs(unit: WorkerUnit): Promise<RunTable> {
    for (;;) {
      if (unit.runs) {
        this.#loadedRuns.get(unit);
        return unit.runs;
      }
      const table: RunTable = { byId: new Map<string, RunRecord>(), order: [] };
      await this.#load(
        unit,
        WORKER_FILES.runs,
        (u) => [u.runs_bytes, u.readable_runs_bytes],
        (line) => {
          const stored = parseLine(StoredRunSchema, line, `a run of worker ${unit.worker_id}`, this.#ctx.corrupt);
          if (!stored) return;
          if (!table.byId.has(stored.run.run_id)) table.order.push(stored.run.run_id);
          table.byId.set(stored.run.run_id, stored.run);
        },
        () => {
          unit.runs = table;
          this.#loadedRuns.set(unit, true);
        },
      );
    }
  }

  /**
   * The newest record for `key`, or null when the key was never used.
   * @throws RuntimeError `idempotency_conflict` when the key's record was lost to damage
   */
  async idempotency(unit: WorkerUnit, key: string): Promise<IdempotencyRecord | null> {
    const cacheKey = `${unit.worker_id}\u0000${key}`;
    const cached = this.#records.get(cacheKey);
    if (cached) return cached;
    for (;;) {
      await this.#replacing;
      const rewrites = this.#rewrites;
      let found: IdempotencyRecord | null;
      try {
        found = await this.#find(unit, key);
      } catch (error) {
        if (rewrites === this.#rewrites) throw error;
        continue;
      }
      // Offsets taken before a rewrite may have been read in the new file.
      if (rewrites !== this.#rewrites) continue;
      if (found) this.#records.set(cacheKey, found);
      return found;
    }
  }

  /**
   * Runs `replace` (the rename that puts `unit`'s rewritten idempotency log in place, and the
   * update of its sizes) while lookups wait, then installs the new key index (if one was loaded);
   * lookups in flight start over, since their offsets may be of the old file.
   */
  async replacing(unit: WorkerUnit, index: KeyOffsets, replace: () => Promise<void>): Promise<void> {
    let done = (): void => undefined;
    this.#replacing = new Promise((resolve) => {
      done = resolve;
    });
    this.#rewrites++;
    try {
      await replace();
      unit.idempotency = unit.idempotency ? index : null;
    } finally {
      this.#rewrites++;
      this.#replacing = null;
      done();
    }
  }

  async #find(unit: WorkerUnit, key: string): Promise<IdempotencyRecord | null> {
    const index = await this.#keyIndex(unit);
    const path = this.#ctx.layout.workerFile(unit.worker_id, WORKER_FILES.idempotency);
    for (const offset of index.candidates(key)) {
      // A record applied but not written yet: write it, then read it.
      if (offset >= unit.readable_idempotency_bytes) await this.#ctx.published();
      const end = unit.readable_idempotency_bytes;
      if (offset >= end) continue;
      const line = await this.#ctx.read(() => readLineAt(this.#fs, path, offset, end));
      const record = parseLine(
        IdempotencyRecordSchema,
        line,
        `an idempotency record of worker ${unit.worker_id}`,
        () => undefined,
      );
      if (record?.key === key) return record;
    }
    if (unit.idempotency_damaged && (await this.#usedInEvents(unit, key))) {
      throw new RuntimeError(
        'idempotency_conflict',
        'the record of this idempotency_key was damaged on disk, so the input is refused rather than run a second time; send it with a new key if it must run again',
        { details: { idempotency_key: key } },
      );
    }
    return null;
  }

  /** Caches a record just committed, so an immediate replay reads no disk. */
  remember(record: IdempotencyRecord): void {
    this.#records.set(`${record.worker_id}\u0000${record.key}`, record);
  }

  async #keyIndex(unit: WorkerUnit): Promise<KeyOffsets> {
    for (;;) {
      if (unit.idempotency) return unit.idempotency;
      const rewrites = this.#rewrites;
      const index = new KeyOffsets();
      await this.#load(
        unit,
        WORKER_FILES.idempotency,
        (u) => [u.idempotency_bytes, u.readable_idempotency_bytes],
        (line, offset) => {
          const what = `an idempotency record of worker ${unit.worker_id}`;
          const record = parseLine(IdempotencyRecordSchema, line, what, this.#ctx.corrupt);
          if (record) index.add(record.key, offset);
          else if (line !== '' && !unit.idempotency_damaged) {
            unit.idempotency_damaged = true;
            // Persisted with the next snapshot, so the refusal outlives a restart.
            unit.dirty |= SNAPSHOT_DUE;
            this.#ctx.damaged(unit.worker_id);
          }
        },
        () => {
          unit.idempotency = index;
        },
      );
      // The log was rewritten while it was scanned: the offsets may be of the old file.
      if (rewrites !== this.#rewrites) unit.idempotency = null;
    }
  }

  /**
   * Whether an input event of this worker carried `key` (its idempotency record is gone) since the
   * expiry cutoff: a use before it has expired, so the key is a new input, as it would be with its
   * record found (the record may have been dropped by an expiry before the damage). O(worker events).
   */
  async #usedInEvents(unit: WorkerUnit, key: string): Promise<boolean> {
    const cutoff = this.#ctx.expired_before();
    let after = 0;
    for (;;) {
      const lines = await this.#ctx.read(() => this.#ctx.worker_events(unit, after, EVENT_PAGE));
      for (const line of lines) {
        const data = jsonField(line, 'data') as { idempotency_key?: unknown } | undefined;
        const at = jsonField(line, 'created_at');
        if (data?.idempotency_key === key && (cutoff === null || typeof at !== 'string' || at >= cutoff)) return true;
        const id = jsonField(line, 'id');
        if (typeof id === 'number') after = Math.max(after, id);
      }
      if (lines.length < EVENT_PAGE) return false;
    }
  }

  /**
   * Scans a worker's runs or idempotency log once, then installs the table synchronously at a
   * moment when every planned append has been read, so later applies keep it current.
   */
  async #load(
    unit: WorkerUnit,
    file: (typeof WORKER_FILES)['runs' | 'idempotency'],
    sizes: (unit: WorkerUnit) => [planned: number, readable: number],
    onLine: (line: string, offset: number) => void,
    install: () => void,
  ): Promise<void> {
    const key = `${unit.worker_id}/${file}`;
    const running = this.#loading.get(key);
    if (running) return running;
    const path = this.#ctx.layout.workerFile(unit.worker_id, file);
    const task = (async () => {
      let done = 0;
      for (;;) {
        const [planned, readable] = sizes(unit);
        if (done < readable) {
          const from = done;
          await this.#ctx.read(() => scanLines(this.#fs, path, from, readable, onLine));
          done = readable;
          continue;
        }
        if (done === planned) break;
        await this.#ctx.published();
      }
      install();
    })();
    this.#loading.set(key, task);
    try {
      await task;
    } finally {
      this.#loading.delete(key);
    }
  }
}
