import type { WatchItem } from './schemas/stream.js';

/** How many consumed items the queue keeps before it drops them (cheap amortized shifting). */
const COMPACT_AFTER = 1024;

/** An emptied queue is reset once this many were consumed, not after each (a watch usually holds one item). */
const RESET_EMPTY_AFTER = 64;

/**
 * One watch's live items not yet taken, and their size (the JSON bytes the buffer bound counts).
 * Items and sizes sit side by side: no wrapper object per item per watch.
 */
export class WatchQueue {
  #items: (WatchItem | undefined)[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;

  /** True when nothing is queued. */
  get empty(): boolean {
    return this.#head === this.#items.length;
  }

  /** The size of what is queued. */
  get bytes(): number {
    return this.#bytes;
  }

  push(item: WatchItem, bytes: number): void {
    this.#items.push(item);
    this.#sizes.push(bytes);
    this.#bytes += bytes;
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): WatchItem | undefined {
    const head = this.#head;
    const item = this.#items[head];
    if (item === undefined) return undefined;
    this.#items[head] = undefined;
    this.#bytes -= this.#sizes[head] as number;
    this.#head = head + 1;
    if (this.#head === this.#items.length) {
      if (this.#head >= RESET_EMPTY_AFTER) this.clear();
    } else if (this.#head >= COMPACT_AFTER) {
      // A consumer that stays a few items behind never empties the queue: drop the consumed part.
      this.#items.splice(0, this.#head);
      this.#sizes.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Drops everything (the arrays are reused). */
  clear(): void {
    this.#items.length = 0;
    this.#sizes.length = 0;
    this.#head = 0;
    this.#bytes = 0;
  }
}
