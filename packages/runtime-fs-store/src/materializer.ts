import type { FileWriter } from './file-writer.js';
import type { StoreState } from './store-state.js';

/**
 * Queued appends (bytes) that make the store write them without waiting for a read or checkpoint.
 * Larger: fewer, bigger writes per file; this much more memory held between writes.
 */
export const MATERIALIZE_BYTES = 4 * 1024 * 1024;

/**
 * Brings the materialized files (logs and indexes) up to date with the applied batches, behind the
 * acknowledgement: a commit resolves once its journal append is fsynced and applied in memory, and
 * its log lines are written later, many groups' worth per file in one write. Everything it writes is
 * in the journal already, so losing the page cache loses nothing that replay does not redo.
 * Reads call {@link flush} first, so they see every acknowledged record; a checkpoint, a snapshot,
 * a trim and a removal call it before touching the files. Flushes run one at a time, which keeps the
 * writer's rule that a file's earlier writes finish before later ones are planned at its open.
 */
export class Materializer {
  readonly #writer: FileWriter;
  readonly #state: StoreState;
  /** The flush being written, or the last one (settled). */
  #current: Promise<void> = Promise.resolve();
  #running = false;
  /** A flush waiting for the current one; it takes whatever is queued when it starts. */
  #next: Promise<void> | null = null;
  #failure: unknown = null;

  constructor(writer: FileWriter, state: StoreState) {
    this.#writer = writer;
    this.#state = state;
  }

  /** Bytes queued and not written yet. */
  get pending(): number {
    return this.#writer.pendingBytes;
  }

  /**
   * Resolves once everything applied before the call is written and readable; rejects with the
   * write error, after which every later flush rejects too (the store has failed).
   */
  flush(): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    // A queued flush starts after the call, so it takes everything applied before it.
    if (this.#next) return this.#next;
    if (!this.#running) {
      // Planned sizes move only with an append, so nothing queued means nothing to make readable.
      if (!this.#writer.hasPending) return Promise.resolve();
      return this.#start();
    }
    this.#next = this.#current.then(() => this.#start());
    return this.#next;
  }

  /** Resolves when no flush is running or queued, whatever their outcome. */
  async idle(): Promise<void> {
    await (this.#next ?? this.#current).catch(() => undefined);
  }

  #start(): Promise<void> {
    this.#next = null;
    this.#running = true;
    // Taken synchronously: appends applied from now on belong to the next flush.
    const publish = this.#state.capture();
    const written = this.#writer.flush();
    this.#current = written.then(
      () => {
        publish();
        this.#running = false;
      },
      (error: unknown) => {
        this.#failure = error;
        this.#running = false;
        throw error;
      },
    );
    return this.#current;
  }
}
