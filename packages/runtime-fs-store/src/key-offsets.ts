/** 32-bit FNV-1a over the UTF-16 code units of `key`. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Where each key's records sit in an append-only log: an open-addressing table of (hash, offset)
 * in typed arrays, about 24 bytes per key and no strings, so a worker with many idempotency keys
 * costs little memory; the records themselves stay on disk. A hash names candidates only: the
 * caller reads each candidate line and compares the key.
 */
export class KeyOffsets {
  #hashes = new Uint32Array(16);
  /** Offset + 1 (0 marks a free slot). */
  #offsets = new Float64Array(16);
  #size = 0;

  /** Records that the line at `offset` holds a record for `key`. */
  add(key: string, offset: number): void {
    if ((this.#size + 1) * 2 > this.#offsets.length) this.#grow();
    this.#insert(hash(key), offset + 1);
    this.#size++;
  }

  /** Offsets of the lines that may hold `key`, newest first (the latest record for a key wins). */
  candidates(key: string): number[] {
    const h = hash(key);
    const mask = this.#offsets.length - 1;
    const found: number[] = [];
    for (let slot = h & mask; this.#offsets[slot] !== 0; slot = (slot + 1) & mask) {
      if (this.#hashes[slot] === h) found.push((this.#offsets[slot] as number) - 1);
    }
    return found.sort((a, b) => b - a);
  }

  #insert(h: number, stored: number): void {
    const mask = this.#offsets.length - 1;
    let slot = h & mask;
    while (this.#offsets[slot] !== 0) slot = (slot + 1) & mask;
    this.#hashes[slot] = h;
    this.#offsets[slot] = stored;
  }

  #grow(): void {
    const hashes = this.#hashes;
    const offsets = this.#offsets;
    this.#hashes = new Uint32Array(hashes.length * 2);
    this.#offsets = new Float64Array(offsets.length * 2);
    for (let slot = 0; slot < offsets.length; slot++) {
      if (offsets[slot] !== 0) this.#insert(hashes[slot] as number, offsets[slot] as number);
    }
  }
}

/** A map that keeps only its `max` most recently used entries; `onEvict` hears each one dropped. */
export class Lru<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();
  readonly #onEvict: (key: K, value: V) => void;

  constructor(max: number, onEvict: (key: K, value: V) => void = () => undefined) {
    this.#max = max;
    this.#onEvict = onEvict;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#max) {
      const [oldest, dropped] = this.#map.entries().next().value as [K, V];
      this.#map.delete(oldest);
      this.#onEvict(oldest, dropped);
    }
  }
}
