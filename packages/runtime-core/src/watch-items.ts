import type { WatchItem } from './schemas/stream.js';

/** Freezes a value and everything it holds: watch items are shared by every consumer. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

const dataCache = new WeakMap<WatchItem, string>();

/**
 * The JSON of an item's payload (the event, or the delta without `type`), what an SSE `data:`
 * line carries. Computed once per item and shared: a live item is the same object for every
 * watch, so a server with many streams serializes it once.
 */
export function watchItemData(item: WatchItem): string {
  let data = dataCache.get(item);
  if (data === undefined) {
    if (item.type === 'event') data = JSON.stringify(item.event);
    else {
      const { type: _type, ...delta } = item;
      data = JSON.stringify(delta);
    }
    dataCache.set(item, data);
  }
  return data;
}
