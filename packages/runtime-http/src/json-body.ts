import { RuntimeError } from '@worker-runtime/core';
import { HttpRuntimeError } from './http-errors.js';

/** How to read one request body. */
export interface JsonBodyOptions {
  /** Largest body accepted, in bytes; larger → `payload_too_large`, decided while reading. */
  maxBytes: number;
  /** When true, an empty body without a content type reads as `{}` (cancel, stop). */
  optional: boolean;
}

// `application/json` or any `application/*+json`, with at most a UTF-8 charset parameter.
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9.!#$&^_-]+\+)?json\s*(?:;\s*charset\s*=\s*"?utf-?8"?\s*)?$/i;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function tooLarge(maxBytes: number): HttpRuntimeError {
  // `connection: close` lets Node drop a client that keeps uploading instead of draining it forever.
  return new HttpRuntimeError(
    'payload_too_large',
    `the request body is larger than ${maxBytes} bytes`,
    { connection: 'close' },
    { max_body_bytes: maxBytes },
  );
}

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

/** Reads at most `maxBytes` from `stream`, failing as soon as it is exceeded. */
async function readLimited(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Buffer> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/**
 * Reads a JSON request body: checks `Content-Length` up front, the content encoding (only
 * `identity`) and the media type, then streams the body under the byte cap and parses it.
 * @throws RuntimeError `payload_too_large`, `unsupported_media_type`, `invalid_json`
 */
export async function readJsonBody(
  stream: ReadableStream<Uint8Array> | null,
  header: (name: string) => string | undefined,
  { maxBytes, optional }: JsonBodyOptions,
): Promise<unknown> {
  const declared = header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  assertIdentityEncoding(header('content-encoding'));
  const contentType = header('content-type');
  const isJson = contentType !== undefined && isJsonContentType(contentType);
  if (contentType !== undefined && !isJson) throw unsupportedMediaType();
  if (!isJson && !optional) throw unsupportedMediaType();
  const bytes = stream ? await readLimited(stream, maxBytes) : Buffer.alloc(0);
  if (bytes.byteLength === 0) {
    if (optional) return {};
    throw new RuntimeError('invalid_json', 'the request body is empty; send a JSON object');
  }
  if (!isJson) throw unsupportedMediaType();
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new RuntimeError('invalid_json', 'the request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new RuntimeError('invalid_json', 'the request body is not valid JSON');
  }
}
