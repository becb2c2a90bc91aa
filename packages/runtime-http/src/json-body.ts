import { RuntimeError } from '@worker-runtime/core';
import { type BodySource, tooLarge } from './body-source.js';

/** How to read one request body. */
export interface JsonBodyOptions {
  /** Largest body accepted, in bytes; larger → `payload_too_large`, decided while reading. */
  maxBytes: number;
  /** When true, an empty body (length 0) reads as `{}` whatever its content type (cancel, stop). */
  optional: boolean;
}

// `application/json` or any `application/*+json`, with at most a UTF-8 charset parameter.
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9.!#$&^_-]+\+)?json\s*(?:;\s*charset\s*=\s*"?utf-?8"?\s*)?$/i;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function unsupportedMediaType(): RuntimeError {
  return new RuntimeError('unsupported_media_type', 'the request body must be JSON (content-type: application/json)');
}

// Bodies are read as sent: a compressed one would otherwise be parsed as if it were plain JSON.
function assertIdentityEncoding(contentEncoding: string | undefined): void {
  if (contentEncoding === undefined) return;
  const codings = contentEncoding.split(',').map((coding) => coding.trim().toLowerCase());
  if (codings.some((coding) => coding !== '' && coding !== 'identity')) {
    throw new RuntimeError('unsupported_media_type', 'content-encoding is not supported; send the body uncompressed');
  }
}

/** True when `contentType` names JSON in UTF-8. */
export function isJsonContentType(contentType: string): boolean {
  return JSON_MEDIA_TYPE.test(contentType.trim());
}

function parseObject(bytes: Buffer): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new RuntimeError('invalid_json', 'the request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RuntimeError('invalid_json', 'the request body is not valid JSON');
  }
  // `[]` or `null` must not read as "no options" (SPEC §7: a non-empty body is a JSON object).
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RuntimeError('invalid_request', 'the request body must be a JSON object', {
      details: { issues: [{ path: '', message: 'must be an object' }] },
    });
  }
  return value as Record<string, unknown>;
}

/**
 * Reads a JSON object body: checks `Content-Length` up front and the content encoding (only
 * `identity`); a required body must have a JSON media type before it is read, an optional one
 * only when it is not empty; then reads the body under the byte cap and parses it.
 * @throws RuntimeError `payload_too_large`, `unsupported_media_type`, `invalid_json`, `invalid_request`
 */
export async function readJsonBody(
  body: BodySource | null,
  header: (name: string) => string | undefined,
  { maxBytes, optional }: JsonBodyOptions,
): Promise<Record<string, unknown>> {
  const declared = header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  assertIdentityEncoding(header('content-encoding'));
  const contentType = header('content-type');
  const isJson = contentType !== undefined && isJsonContentType(contentType);
  if (!isJson && !optional) throw unsupportedMediaType();
  const bytes = body ? await body.read(maxBytes) : Buffer.alloc(0);
  if (bytes.byteLength === 0) {
    if (optional) return {};
    throw new RuntimeError('invalid_json', 'the request body is empty; send a JSON object');
  }
  if (!isJson) throw unsupportedMediaType();
  return parseObject(bytes);
}
