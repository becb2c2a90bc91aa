import { StringDecoder } from 'node:string_decoder';

/**
 * Turns a program's text output into output deltas as it arrives, and into the entry at the end.
 * The entry drops one final newline, so a trailing newline (or a `\r` that may start `\r\n`) is
 * held back until more output follows it: the deltas concatenated are exactly the entry. Multi-byte
 * characters split across chunks are decoded whole.
 */
export class TextOutput {
  readonly #decoder = new StringDecoder('utf8');
  #held = '';
  #text = '';

  /** The text a chunk of output adds to the entry now (possibly empty). */
  push(chunk: Buffer): string {
    const decoded = this.#held + this.#decoder.write(chunk);
    const keep = decoded.endsWith('\r\n') ? 2 : decoded.endsWith('\n') || decoded.endsWith('\r') ? 1 : 0;
    this.#held = decoded.slice(decoded.length - keep);
    return this.#emit(decoded.slice(0, decoded.length - keep));
  }

  /** The text the end of output adds (a held `\r`, an incomplete character), without the final newline. */
  end(): string {
    const rest = this.#held + this.#decoder.end();
    this.#held = '';
    return this.#emit(rest.endsWith('\r\n') ? rest.slice(0, -2) : rest.endsWith('\n') ? rest.slice(0, -1) : rest);
  }

  /** The entry so far: everything emitted. */
  get text(): string {
    return this.#text;
  }

  #emit(piece: string): string {
    this.#text += piece;
    return piece;
  }
}
