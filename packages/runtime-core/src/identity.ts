import { randomFillSync } from 'node:crypto';
import { RuntimeError } from './errors.js';

/** SPEC §2: ids are 1–128 chars of `[A-Za-z0-9._-]`, starting with a letter or digit. */
export const ID_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Longest id allowed. */
export const ID_MAX_LENGTH = 128;

/** True when `value` is a valid runtime, worker or run id (and so safe as a path component). */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= ID_MAX_LENGTH && ID_PATTERN.test(value);
}

/**
 * Returns `value` when it is a valid id.
 * @throws RuntimeError `invalid_id`
 */
export function assertValidId(value: unknown, what = 'id'): string {
  if (!isValidId(value)) {
    throw new RuntimeError(
      'invalid_id',
      `${what} must be 1-128 characters of A-Z, a-z, 0-9, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return value;
}

let lastMillis = -1;
/** The random tail of the last id (10 bytes); incremented in place within one millisecond. */
const lastRandom = new Uint8Array(10);
// Random bytes are drawn from a pool refilled in one call: a `randomBytes` call per id cost ~5 µs,
// as much as the rest of an input cycle's bookkeeping.
const pool = new Uint8Array(10 * 64);
let poolOffset = pool.length;
/** The two ASCII hex digits of every byte value. */
const HEX_DIGITS = Buffer.from(
  Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0')).join(''),
  'latin1',
);
/** The id's text is written here and read out as one flat string: a concatenated one keeps its pieces alive as long as the id is held. */
const text = Buffer.alloc(36);

/** Writes `byte` as two hex digits at `offset` of {@link text}; returns the next offset. */
function hex(byte: number, offset: number): number {
  text[offset] = HEX_DIGITS[2 * byte] as number;
  text[offset + 1] = HEX_DIGITS[2 * byte + 1] as number;
  return offset + 2;
}

/**
 * A lowercase UUIDv7: time-ordered, so ids sort by creation, and unique across restarts.
 * Within one millisecond the random tail is incremented, which keeps ids from one process monotonic.
 */
export function generateId(now: number = Date.now()): string {
  let millis = Math.trunc(now);
  const random = lastRandom;
  if (millis <= lastMillis) {
    millis = lastMillis;
    for (let i = random.length - 1; i >= 0; i--) {
      random[i] = ((random[i] as number) + 1) & 0xff;
      if (random[i] !== 0) break;
    }
  } else {
    if (poolOffset === pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    random.set(pool.subarray(poolOffset, poolOffset + random.length));
    poolOffset += random.length;
  }
  lastMillis = millis;
  // 48 bits of milliseconds, big-endian: the high 16 bits, then the low 32.
  const high = Math.floor(millis / 2 ** 32);
  const low = millis >>> 0;
  let at = hex((high >>> 8) & 0xff, 0);
  at = hex(high & 0xff, at);
  at = hex(low >>> 24, at);
  at = hex((low >>> 16) & 0xff, at);
  text[at++] = 0x2d;
  at = hex((low >>> 8) & 0xff, at);
  at = hex(low & 0xff, at);
  text[at++] = 0x2d;
  at = hex(0x70 | ((random[0] as number) & 0x0f), at);
  at = hex(random[1] as number, at);
  text[at++] = 0x2d;
  at = hex(0x80 | ((random[2] as number) & 0x3f), at);
  at = hex(random[3] as number, at);
  text[at++] = 0x2d;
  for (let i = 4; i < 10; i++) at = hex(random[i] as number, at);
  return text.toString('latin1');
}

/** `<worker display_name or worker_id>@<runtime display_name or runtime_id>`; for UIs only, never authority. */
export function displayRef(
  worker: { worker_id: string; display_name: string | null },
  runtime: { runtime_id: string; display_name: string | null },
): string {
  return `${worker.display_name ?? worker.worker_id}@${runtime.display_name ?? runtime.runtime_id}`;
}
