import * as v from 'valibot';
import { readSmallFile, writeAtomic } from './file-io.js';
import { FORMAT } from './file-schemas.js';
import type { FsLike } from './fs-like.js';
import { RUNTIME_FILES, type RuntimeLayout } from './layout.js';

/**
 * How many event ids one reservation covers. A larger block rewrites the file less often and
 * leaves a longer gap of ids after a lost journal. At ~5 events per input cycle and tens of
 * thousands of cycles a second, a block lasts about a second.
 */
export const RESERVED_EVENT_IDS = 65_536;

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
 * The event ids reserved so far, raised a block at a time: `reserve(newest)` resolves once ids up
 * to `newest` (a group's highest) are durably reserved, before the group is journaled. Once half a
 * block is used the next block is reserved in the background, so a commit waits for the file only
 * when it outruns that write (a failed background write is retried by the commit that needs it,
 * which then fails the store).
 */
export class EventIdReservation {
  readonly #fs: FsLike;
  readonly #layout: RuntimeLayout;
  /** Holds the durable reservation (`reserved_events`: 0 when none, the file's value after open). */
  readonly #state: { reserved_events: number };
  #raising: Promise<void> | null = null;

  constructor(fs: FsLike, layout: RuntimeLayout, state: { reserved_events: number }) {
    this.#fs = fs;
    this.#layout = layout;
    this.#state = state;
  }

  async reserve(newest: number): Promise<void> {
    while (newest > this.#state.reserved_events) {
      const raising = this.#raising;
      if (raising === null) await this.#raise(newest);
      else await raising.catch(() => undefined);
    }
    if (this.#raising === null && newest > this.#state.reserved_events - RESERVED_EVENT_IDS / 2) {
      this.#raise(this.#state.reserved_events).catch(() => undefined);
    }
  }

  /** Resolves once no reservation is being written (whatever its outcome). */
  async idle(): Promise<void> {
    await this.#raising?.catch(() => undefined);
  }

  /** Writes a reservation of a block past `from`; one at a time. */
  #raise(from: number): Promise<void> {
    const events = from + RESERVED_EVENT_IDS;
    const text = JSON.stringify({ format: FORMAT, events });
    const raising = writeAtomic(this.#fs, this.#layout.file(RUNTIME_FILES.reservedIds), text)
      .then(() => {
        this.#state.reserved_events = Math.max(this.#state.reserved_events, events);
      })
      .finally(() => {
        this.#raising = null;
      });
    this.#raising = raising;
    return raising;
  }
}
