import { randomBytes } from 'node:crypto';
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
let lastRandom: Buffer = Buffer.alloc(10);

/**
 * A lowercase UUIDv7: time-ordered, so ids sort by creation, and unique across restarts.
 * Within one millisecond the random tail is incremented, which keeps ids from one process monotonic.
 */
export function generateId(now: number = Date.now()): string {
  let millis = now;
  let random: Buffer;
  if (millis <= lastMillis) {
    millis = lastMillis;
    random = Buffer.from(lastRandom);
    for (let i = random.length - 1; i >= 0; i--) {
      random[i] = ((random[i] ?? 0) + 1) & 0xff;
      if (random[i] !== 0) break;
    }
  } else {
    random = randomBytes(10);
  }
  lastMillis = millis;
  lastRandom = random;
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(millis, 0, 6);
  random.copy(bytes, 6);
  bytes[6] = 0x70 | ((bytes[6] ?? 0) & 0x0f);
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `<worker display_name or worker_id>@<runtime display_name or runtime_id>`; for UIs only, never authority. */
export function displayRef(
  worker: { worker_id: string; display_name: string | null },
  runtime: { runtime_id: string; display_name: string | null },
): string {
  return `${worker.display_name ?? worker.worker_id}@${runtime.display_name ?? runtime.runtime_id}`;
}
