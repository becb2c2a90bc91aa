/** Keeps only the last `capacity` bytes written to it, so a chatty stderr cannot exhaust memory. */
export class ByteTail {
  readonly #capacity: number;
  #bytes: Buffer = Buffer.alloc(0);

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  push(chunk: Buffer): void {
    const joined = this.#bytes.length === 0 ? chunk : Buffer.concat([this.#bytes, chunk]);
    this.#bytes =
      joined.length > this.#capacity ? Buffer.from(joined.subarray(joined.length - this.#capacity)) : joined;
  }

  /** The kept bytes as trimmed UTF-8 (a character cut at the start is dropped). */
  text(): string {
    return this.#bytes
      .toString('utf8')
      .replace(/^\uFFFD+/, '')
      .trim();
  }
}
