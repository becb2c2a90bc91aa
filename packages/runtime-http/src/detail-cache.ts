/**
 * Serialised worker envelopes keyed by worker id and revision (`Runtime#workerRevision`), so a GET of
 * an unchanged Worker reuses its JSON instead of rebuilding and re-serialising it. Bounded: the
 * least recently stored entries go first.
 */
export class DetailCache {
  readonly #entries = new Map<string, { revision: number; json: Buffer }>();
  readonly #capacity: number;

  constructor(capacity = 1024) {
    this.#capacity = capacity;
  }

  /** The cached JSON (UTF-8 bytes, so a hit neither re-encodes nor re-measures it) for this revision, or undefined. */
  get(worker_id: string, revision: number): Buffer | undefined {
    const entry = this.#entries.get(worker_id);
    return entry?.revision === revision ? entry.json : undefined;
  }

  /** Stores the JSON of a revision, evicting the oldest entry when full. */
  set(worker_id: string, revision: number, json: Buffer): void {
    this.#entries.delete(worker_id);
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(worker_id, { revision, json });
  }
}
