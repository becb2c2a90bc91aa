import { eventFiles } from './event-log.js';
import { errnoCode, fsyncPath, writeAtomic } from './file-io.js';
import type { FileWriter } from './file-writer.js';
import type { FsLike } from './fs-like.js';
import type { IndexedReads } from './indexed-reads.js';
import type { RuntimeLayout } from './layout.js';
import { indexEntry } from './offset-index.js';
import type { StoreState } from './store-state.js';

// Retention of the event log (`retention.max_retained_events` = R). The log holds between R and 2R
// events: once it holds 2R, the newest R are copied to a new file pair whose base is the id before
// them, and the old pair is removed. Copying R events every R events costs O(1) per event, and a
// page read stays one index read and one data read.

/**
 * Whether the group's newest event (`newest`, its id) brings the log to twice the retained count, so the group's
 * publish trims it. Decided when the group is journaled, because a trim is followed by a checkpoint,
 * which must not overlap the next group's journal append.
 */
export function trimDue(newest: number, state: StoreState, retained: number | undefined): boolean {
  return retained !== undefined && newest - state.events_base >= 2 * retained;
}

/**
 * When the log holds twice `open.retained` events, keeps the newest `retained`: writes them to the new pair (index, then data, each temp,
 * fsync, rename, fsync dir; so a data file in place always has its index, see `openEventLog`),
 * switches the state to it and removes the old pair. Runs after a group is published, with every
 * event written and readable, and before the checkpoint that records the new base. A crash at any
 * point leaves either pair whole, and the journal's events are at or before the new log's end, so
 * replay skips them. Returns false (nothing changed) when the old log could not be read whole.
 */
export async function trimEvents(
  fs: FsLike,
  open: {
    state: StoreState;
    layout: RuntimeLayout;
    writer: FileWriter;
    reads: IndexedReads;
    retained: number | undefined;
  },
): Promise<boolean> {
  const { state, layout, retained } = open;
  const { count } = state.events;
  if (retained === undefined || count - state.events_base < 2 * retained) return false;
  const old = eventFiles(layout, state.events_base);
  const base = count - retained;
  if (base <= old.base) return false;
  const lines = await open.reads.events(base, retained);
  if (lines.length !== retained) return false;
  let data = '';
  let index = '';
  let bytes = 0;
  for (const line of lines) {
    // An empty line is a gap (a record that was lost): it keeps its slot and takes no bytes.
    if (line !== '') {
      data += `${line}\n`;
      bytes += Buffer.byteLength(line, 'utf8') + 1;
    }
    index += indexEntry(bytes);
  }
  const next = eventFiles(layout, base);
  await writeAtomic(fs, next.index, index);
  await writeAtomic(fs, next.data, data);
  state.events_base = base;
  state.events = { count, bytes };
  state.readable_events = { count, bytes };
  await open.writer.forgetFiles([old.data, old.index]);
  for (const path of [old.index, old.data]) {
    await fs.unlink(path).catch((error: unknown) => {
      if (errnoCode(error) !== 'ENOENT') throw error;
    });
  }
  await fsyncPath(fs, layout.dir);
  return true;
}
