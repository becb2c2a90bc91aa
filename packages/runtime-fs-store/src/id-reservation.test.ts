import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { type FsLike, nodeFs } from './fs-like.js';
import { EventIdReservation, RESERVED_EVENT_IDS, readReservation } from './id-reservation.js';
import { RuntimeLayout } from './layout.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A runtime directory and an fs that counts (and can fail) the reservation's renames. */
function setup(): { layout: RuntimeLayout; fs: FsLike; writes: () => number; failNext: () => void } {
  const data_dir = mkdtempSync(join(tmpdir(), 'id-reservation-'));
  dirs.push(data_dir);
  const layout = new RuntimeLayout(data_dir, 'r1');
  mkdirSync(layout.dir, { recursive: true });
  let writes = 0;
  let fail = false;
  const fs: FsLike = {
    ...nodeFs,
    rename: async (from, to) => {
      if (fail) {
        fail = false;
        throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      }
      writes++;
      return nodeFs.rename(from, to);
    },
  };
  return { layout, fs, writes: () => writes, failNext: () => (fail = true) };
}

describe('EventIdReservation', () => {
  test('reserves a block past the ids a group needs before it resolves, and keeps it in the file', async () => {
    const { layout, fs, writes } = setup();
    const state = { reserved_events: 0 };
    await new EventIdReservation(fs, layout, state).reserve(5);
    expect(state.reserved_events).toBe(5 + RESERVED_EVENT_IDS);
    expect(await readReservation(fs, layout)).toBe(5 + RESERVED_EVENT_IDS);
    expect(writes()).toBe(1);
  });

  test('ids within the first half of the block need no write', async () => {
    const { layout, fs, writes } = setup();
    const state = { reserved_events: RESERVED_EVENT_IDS };
    const ids = new EventIdReservation(fs, layout, state);
    await ids.reserve(RESERVED_EVENT_IDS / 2 - 1);
    expect(writes()).toBe(0);
    expect(state.reserved_events).toBe(RESERVED_EVENT_IDS);
  });

  test('past half the block, the next one is reserved in the background before the ids run out', async () => {
    const { layout, fs, writes } = setup();
    const state = { reserved_events: RESERVED_EVENT_IDS };
    const ids = new EventIdReservation(fs, layout, state);
    await ids.reserve(RESERVED_EVENT_IDS / 2 + 1);
    // Resolved at once (the ids were reserved); the next block is on its way.
    expect(state.reserved_events).toBe(RESERVED_EVENT_IDS);
    await ids.idle();
    expect(state.reserved_events).toBe(2 * RESERVED_EVENT_IDS);
    expect(await readReservation(fs, layout)).toBe(2 * RESERVED_EVENT_IDS);
    await ids.reserve(RESERVED_EVENT_IDS + 10);
    expect(writes()).toBe(1);
  });

  test('a failed background write is retried by the group that needs the ids; a failed retry rejects', async () => {
    const { layout, fs, failNext } = setup();
    const state = { reserved_events: RESERVED_EVENT_IDS };
    const ids = new EventIdReservation(fs, layout, state);
    failNext();
    await ids.reserve(RESERVED_EVENT_IDS / 2 + 1);
    await ids.reserve(RESERVED_EVENT_IDS + 1);
    expect(state.reserved_events).toBe(2 * RESERVED_EVENT_IDS + 1);
    expect(await readReservation(fs, layout)).toBe(2 * RESERVED_EVENT_IDS + 1);
    failNext();
    await expect(ids.reserve(3 * RESERVED_EVENT_IDS)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await readReservation(fs, layout)).toBe(2 * RESERVED_EVENT_IDS + 1);
  });
});
