interface Waiter<T> {
  batch: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The two stages a group goes through; `W` is what writing found out, handed to `publish`. */
export interface CommitStages<T, W> {
  /** Makes a whole group durable (the journal append and its fsync), or throws. Groups are written one at a time, in order. */
  write(group: readonly T[]): Promise<W>;
  /** Makes a durable group visible (applied, materialized), or throws. Groups are published one at a time, in order. */
  publish(group: readonly T[], written: W): Promise<void>;
  /** Whether the next group may be written while this one is still being published. */
  overlaps(written: W): boolean;
  /**
   * For a store whose `write` returns once the group is written and whose `publish` waits for its
   * sync: take a group only as large as evens it with the batches still in flight (half of what
   * waits when nothing is), so one group syncs while the next is prepared. Without it every batch
   * of a busy store lands in one group per sync and the store idles during each sync (batches
   * prepared in the same burst of microtasks all arrive before a group is taken).
   */
  readonly splits?: boolean;
}

/**
 * Group commit for store authors: batches that arrive while a group is being written wait and are written together by
 * the next one (one journal write and fsync, one transaction). Writing and publishing are a two-stage pipeline: the
 * next group's journal write and fsync run while the previous group is still being published
 * (unless `overlaps` says no), so neither stage waits for the other's disk; a group is written only
 * once the group two before it is published. Batches' promises settle
 * in the order `enqueue` was called, each once its group is published.
 */
export class GroupCommit<T, W = void> {
  readonly #stages: CommitStages<T, W>;
  #waiting: Waiter<T>[] = [];
  #running: Promise<void> | null = null;
  /** Batches of the groups taken whose publish has not settled. */
  #unsettled = 0;
  /** Set while the drain waits for either the group being published or a new batch. */
  #arrived: (() => void) | null = null;

  /**
   * `stages` writes and publishes each group; a plain function is a single stage that makes a group
   * durable and visible at once (a database transaction). A stage that throws fails every batch of
   * its group with that error.
   */
  constructor(stages: CommitStages<T, W> | ((group: readonly T[]) => Promise<W>)) {
    this.#stages =
      typeof stages === 'function' ? { write: stages, publish: async () => undefined, overlaps: () => false } : stages;
  }

  /** Resolves once the batch's group was written and published. */
  enqueue(batch: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ batch, resolve, reject });
      this.#arrived?.();
      this.#running ??= this.#drain();
    });
  }

  /** Resolves when nothing is waiting, being written or being published. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /**
   * The next group: everything waiting, or with `splits` as much as evens it with the batches still
   * in flight (half of it when none are), so two groups alternate with similar sizes.
   */
  #take(): Waiter<T>[] {
    const waiting = this.#waiting;
    const even = Math.ceil((waiting.length + this.#unsettled) / 2);
    if (this.#stages.splits !== true || even >= waiting.length) {
      this.#waiting = [];
      return waiting;
    }
    return waiting.splice(0, even);
  }

  async #drain(): Promise<void> {
    // Let batches committed in the same tick join the first group.
    await Promise.resolve();
    let publishing: Promise<void> = Promise.resolve();
    for (;;) {
      if (this.#waiting.length === 0) {
        // A batch arriving while the last group publishes is written at once, not after it.
        const arrived = new Promise<void>((resolve) => {
          this.#arrived = resolve;
        });
        await Promise.race([publishing, arrived]);
        this.#arrived = null;
        if (this.#waiting.length === 0) break;
      }
      const group = this.#take();
      this.#unsettled += group.length;
      const batches = group.map((waiter) => waiter.batch);
      const settled = publishing;
      let written: W;
      try {
        written = await this.#stages.write(batches);
      } catch (error) {
        // Earlier groups settle first, so promises still settle in call order.
        publishing = settled.then(() => {
          this.#unsettled -= group.length;
          for (const waiter of group) waiter.reject(error);
        });
        continue;
      }
      publishing = settled
        .then(() => this.#stages.publish(batches, written))
        .then(
          () => {
            this.#unsettled -= group.length;
            for (const waiter of group) waiter.resolve();
          },
          (error: unknown) => {
            this.#unsettled -= group.length;
            for (const waiter of group) waiter.reject(error);
          },
        );
      // At most one group is published while the next is written: a journal failure then never
      // lands before an earlier group's publishing began.
      await (this.#stages.overlaps(written) ? settled : publishing);
    }
    this.#running = null;
  }
}
