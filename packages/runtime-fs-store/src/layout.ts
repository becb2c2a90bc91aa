import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isValidId, RuntimeError } from '@worker-runtime/core';

/** File names inside `runtimes/<runtime_id>/` (SPEC §9 layout). */
export const RUNTIME_FILES = {
  runtime: 'runtime.json',
  lock: 'LOCK',
  lockTakeover: 'LOCK.takeover',
  checkpoint: 'checkpoint.json',
  journal: 'journal.jsonl',
  reservedIds: 'reserved-ids.json',
  tombstones: 'deleted-workers.jsonl',
  events: 'events.jsonl',
  eventsIndex: 'events.idx',
  workers: 'workers',
} as const;

/** File names inside `workers/<worker_id>/`. */
export const WORKER_FILES = {
  worker: 'worker.json',
  transcript: 'transcript.jsonl',
  transcriptIndex: 'transcript.idx',
  eventIds: 'event-ids.idx',
  runs: 'runs.jsonl',
  idempotency: 'idempotency.jsonl',
  history: 'history.jsonl',
} as const;

/** The name of one file in a worker directory. */
export type WorkerFileName = (typeof WORKER_FILES)[keyof typeof WORKER_FILES];

/**
 * Absolute paths of one runtime's files; every id is checked so no path leaves `data_dir`. Worker
 * paths are built by concatenation: a valid id is one path component (no separator, not `.` or
 * `..`), so `<workers>/<id>/<name>` is already normal and inside `data_dir`, and the store keeps no
 * path string per worker (paths are made again when needed, for about the cost of the check).
 */
export class RuntimeLayout {
  readonly root: string;
  readonly dir: string;
  readonly workersDir: string;

  constructor(data_dir: string, runtime_id: string) {
    this.root = resolve(data_dir);
    this.dir = this.#inside(join(this.root, 'runtimes', safeId(runtime_id)));
    this.workersDir = join(this.dir, RUNTIME_FILES.workers);
  }

  /** A file directly in the runtime directory. */
  file(name: (typeof RUNTIME_FILES)[keyof typeof RUNTIME_FILES]): string {
    return `${this.dir}${sep}${name}`;
  }

  /** @throws RuntimeError `invalid_id` */
  workerDir(worker_id: string): string {
    return `${this.workersDir}${sep}${safeId(worker_id)}`;
  }

  /** @throws RuntimeError `invalid_id` */
  workerFile(worker_id: string, name: WorkerFileName): string {
    return `${this.workersDir}${sep}${safeId(worker_id)}${sep}${name}`;
  }

  #inside(path: string): string {
    const rel = relative(this.root, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new RuntimeError('invalid_id', 'an id would address a location outside the data directory');
    }
    return path;
  }
}

/** The `runtimes/` directory of a data dir. */
export function runtimesDir(data_dir: string): string {
  return join(resolve(data_dir), 'runtimes');
}

/**
 * Returns `id` when it is a valid id (SPEC §2), which makes it safe as one path component.
 * @throws RuntimeError `invalid_id`
 */
export function safeId(id: string): string {
  if (!isValidId(id) || id === '.' || id === '..') {
    throw new RuntimeError('invalid_id', 'ids must be 1-128 characters of A-Z, a-z, 0-9, ".", "_" or "-"');
  }
  return id;
}
