/**
 * The Runtime's clock as ISO-8601 strings. One string per millisecond is shared by every record
 * written in it (there are many records and they are kept).
 */
export class Timestamps {
  readonly #now: () => number;
  #lastMillis = Number.NaN;
  #lastStamp = '';

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Milliseconds since the epoch. */
  millis(): number {
    return this.#now();
  }

  /** The current time as ISO-8601. */
  iso(): string {
    return this.isoAt(this.#now());
  }

  /** `millis` (a {@link millis} reading) as ISO-8601: one clock read can give an id and a timestamp. */
  isoAt(millis: number): string {
    if (millis !== this.#lastMillis) {
      this.#lastMillis = millis;
      this.#lastStamp = new Date(millis).toISOString();
    }
    return this.#lastStamp;
  }
}
