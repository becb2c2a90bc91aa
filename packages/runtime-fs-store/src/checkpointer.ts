/**
 * Runs the checkpoints a growing journal asks for behind the commits: one at a time, while later
 * groups are journaled, applied and acknowledged (see `writeCheckpoint`, which takes what it
 * writes at once, first). A failure stops later commits, like any failed checkpoint.
 */
export class Checkpointer {
  readonly #checkpoint: (journal_end: number) => Promise<void>;
  readonly #fail: (error: unknown) => void;
  #running: Promise<void> | null = null;

  /** `checkpoint` writes one (`writeCheckpoint` over the open store); `fail` gets its error. */
  constructor(checkpoint: (journal_end: number) => Promise<void>, fail: (error: unknown) => void) {
    this.#checkpoint = checkpoint;
    this.#fail = fail;
  }

  /** Starts a checkpoint as of the journal offset `journal_end`, unless one is running already. */
  behind(journal_end: number): void {
    if (this.#running) return;
    this.#running = this.#checkpoint(journal_end)
      .catch(this.#fail)
      .finally(() => {
        this.#running = null;
      });
  }

  /** Resolves once no checkpoint is running (whatever its outcome). */
  async idle(): Promise<void> {
    await this.#running;
  }
}
