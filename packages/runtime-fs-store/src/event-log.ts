import { sep } from 'node:path';
import { fsyncPath } from './file-io.js';
import type { FsLike } from './fs-like.js';
import { RUNTIME_FILES, type RuntimeLayout } from './layout.js';
import type { LogSize } from './store-state.js';
import { keyOf } from './worker-rebuild.js';

// The event log is one indexed JSONL file pair whose first slot holds event `base + 1`: slot
// `id - base` (1-based), so a page is still one index read and one data read. `base` is in the file
// names (`events.<base + 1>.jsonl`/`.idx`; base 0 is the original `events.jsonl`/`events.idx`), so
// the files say which ids they hold. Trimming (event-trim.ts) writes the newest events to a pair
// with a higher base and removes the old pair.

/** The files of the event log whose first slot holds event `base + 1`. */
export interface EventFiles {
  base: number;
  data: string;
  index: string;
}

const TRIMMED_NAME = /^events\.([1-9][0-9]{0,14})\.(jsonl|idx)$/;

/** The event log files with `base` events trimmed before them. */
export function eventFiles(layout: RuntimeLayout, base: number): EventFiles {
  if (base === 0) {
    return { base, data: layout.file(RUNTIME_FILES.events), index: layout.file(RUNTIME_FILES.eventsIndex) };
  }
  const stem = `${layout.dir}${sep}events.${base + 1}`;
  return { base, data: `${stem}.jsonl`, index: `${stem}.idx` };
}

/** The base and kind of an event log file name in the runtime directory, or null for any other name. */
export function eventFileOf(name: string): { base: number; data: boolean } | null {
  if (name === RUNTIME_FILES.events) return { base: 0, data: true };
  if (name === RUNTIME_FILES.eventsIndex) return { base: 0, data: false };
  const match = TRIMMED_NAME.exec(name);
  return match ? { base: Number(match[1]) - 1, data: match[2] === 'jsonl' } : null;
}

/** The slot of an event line (its id minus `base`; 0 or less for an id trimmed before the files), or null. */
export function slotOf(base: number): (line: string) => number | null {
  const id = keyOf('id');
  return (line) => {
    const key = id(line);
    return key === null ? null : key - base;
  };
}

/** A log size in ids (count = last id) as the files' slots. */
export function toSlots(size: LogSize, base: number): LogSize {
  return { count: Math.max(0, size.count - base), bytes: size.bytes };
}

/** A log size in slots as ids. */
export function toIds(size: LogSize, base: number): LogSize {
  return { count: size.count + base, bytes: size.bytes };
}

/**
 * Finds the event log at open and removes what an interrupted trim left. A trim renames the new
 * index into place before the new data, so the pair with the highest base that has its data file
 * is complete; when no pair has one (the data was lost), the highest base with any file is the
 * log (its index is checked and rebuilt like any damage). Every other event file is removed.
 */
export async function openEventLog(fs: FsLike, layout: RuntimeLayout): Promise<number> {
  const found: { name: string; base: number; data: boolean }[] = [];
  for (const entry of await fs.readdir(layout.dir)) {
    const file = entry.isDirectory ? null : eventFileOf(entry.name);
    if (file) found.push({ name: entry.name, ...file });
  }
  const withData = found.filter((file) => file.data).map((file) => file.base);
  const base = Math.max(0, ...(withData.length > 0 ? withData : found.map((file) => file.base)));
  const stale = found.filter((file) => file.base !== base);
  for (const file of stale) await fs.unlink(`${layout.dir}${sep}${file.name}`);
  if (stale.length > 0) await fsyncPath(fs, layout.dir);
  return base;
}
