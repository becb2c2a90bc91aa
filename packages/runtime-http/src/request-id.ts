import { randomUUID } from 'node:crypto';

// A caller's id is echoed only when it is short and made of characters safe in logs and headers.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `x-request-id` when it is sane, otherwise a new random UUID. */
export function resolveRequestId(incoming: string | undefined): string {
  return incoming !== undefined && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
