/**
 * Splits a byte stream into lines. Splitting on the `\n` byte is safe for UTF-8 (the byte never
 * occurs inside a multi-byte character), so each line is decoded whole.
 */
export class LineBuffer {
  #pending: Buffer[] = [];

  /** Adds bytes; returns the lines they complete, without their `\n` or `\r\n`. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      this.#pending.push(chunk.subarray(start, end));
      lines.push(stripCr(Buffer.concat(this.#pending).toString('utf8')));
      this.#pending = [];
      start = end + 1;
    }
    if (start < chunk.length) this.#pending.push(chunk.subarray(start));
    return lines;
  }

  /** The last line when the stream ended without a newline, else null. */
  flush(): string | null {
    if (this.#pending.length === 0) return null;
    const line = stripCr(Buffer.concat(this.#pending).toString('utf8'));
    this.#pending = [];
    return line;
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
