import * as v from 'valibot';
import { readSmallFile, writeAtomic } from './file-io.js';
import { FORMAT } from './file-schemas.js';
import type { FsLike } from './fs-like.js';
import { RUNTIME_FILES, type RuntimeLayout } from './layout.js';

/**
 * How many event ids one reservation covers. A larger block rewrites the file less often and
 * leaves a longer gap of ids after a lost journal.
 */
export const RESERVED_EVENT_IDS = 4096;

const ReservationFileSchema = v.object({ format: v.literal(FORMAT), events: v.pipe(v.number(), v.safeInteger()) });

// Acknowledged records may be only in the journal until the materializer writes them, so a journal
// lost after a crash could take the newest event ids with it, and the next open would hand them out
// again. The event ids a runtime may have used are reserved ahead, in `reserved-ids.json` (written
// before the first journal append that passes the reservation), and an open that finds the journal
// damaged continues after the reservation: a gap in the ids, never a reuse.

/** The highest event id reserved so far (0 when the file is missing or unreadable). */
export async function readReservation(fs: FsLike, layout: RuntimeLayout): Promise<number> {
  const raw = await readSmallFile(fs, layout.file(RUNTIME_FILES.reservedIds));
  if (raw === null) return 0;
  try {
    const parsed = v.safeParse(ReservationFileSchema, JSON.parse(raw.toString('utf8')));
    return parsed.success ? parsed.output.events : 0;
  } catch {
    return 0;
  }
}

/**
 * Makes sure event ids up to `newest` (a group's highest) are reserved durably before the group is
 * journaled; returns the reservation (raised by a block, with one atomic file write, when passed).
 */
export async function reserveEventIds(
  fs: FsLike,
  layout: RuntimeLayout,
  reserved: number,
  newest: number,
): Promise<number> {
  if (newest <= reserved) return reserved;
  const events = newest + RESERVED_EVENT_IDS;
  await writeAtomic(fs, layout.file(RUNTIME_FILES.reservedIds), JSON.stringify({ format: FORMAT, events }));
  return events;
}
