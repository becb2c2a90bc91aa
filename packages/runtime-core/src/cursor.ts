import { RuntimeError } from './errors.js';
import { isValidId } from './identity.js';

/** An opaque page cursor for an id (base64url, so clients do not build them by hand). */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/**
 * The id inside a cursor.
 * @throws RuntimeError `invalid_request` when the cursor was not made by {@link encodeCursor}
 */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isValidId(id) || encodeCursor(id) !== cursor) throw new RuntimeError('invalid_request', 'cursor is not valid');
  return id;
}
