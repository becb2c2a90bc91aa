import type { IncomingMessage } from 'node:http';
import { RuntimeError } from '@worker-runtime/core';
import { HttpRuntimeError } from './http-errors.js';

/** A request body as either transport carries it, read at most once under a byte cap. */
export interface BodySource {
  /**
   * The whole body, failing as soon as it passes `maxBytes`.
   * @throws RuntimeError `payload_too_large`; `invalid_request` when the client went away mid-upload
   */
  read(maxBytes: number): Promise<Buffer>;
}

/** The 413 for a body over the cap. */
export function tooLarge(maxBytes: number): HttpRuntimeError {
  // `connection: close` lets Node drop a client that keeps uploading instead of draining it forever.
  return new HttpRuntimeError(
    'payload_too_large',
    `the request body is larger than ${maxBytes} bytes`,
    { connection: 'close' },
    { max_body_bytes: maxBytes },
  );
}

// A client that disconnects mid-upload is the client's doing, not a bug: never `internal`.
function clientGone(cause?: unknown): RuntimeError {
  return new RuntimeError('invalid_request', 'the client closed the connection before the body was complete', {
    cause,
  });
}

/** A body carried as a web stream (Hono, `app.request()`, any fetch-style server). */
export function webBody(stream: ReadableStream<Uint8Array>): BodySource {
  return {
    async read(maxBytes) {
      const reader = stream.getReader();
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (;;) {
        const chunk = await reader.read().catch((error: unknown) => {
          throw clientGone(error);
        });
        if (chunk.done) break;
        total += chunk.value.byteLength;
        if (total > maxBytes) {
          reader.cancel().catch(() => undefined);
          throw tooLarge(maxBytes);
        }
        chunks.push(chunk.value);
      }
      return Buffer.concat(chunks, total);
    },
  };
}

/**
 * A body read straight from Node's request. On overflow it stops listening without destroying
 * the socket, so the 413 (with `connection: close`) still reaches the client.
 */
export function nodeBody(incoming: IncomingMessage): BodySource {
  return {
    read(maxBytes) {
      return new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let total = 0;
        const done = (): void => {
          incoming.off('data', onData);
          incoming.off('end', onEnd);
          incoming.off('error', onError);
          incoming.off('close', onClose);
        };
        const onData = (chunk: Buffer): void => {
          total += chunk.byteLength;
          if (total > maxBytes) {
            done();
            reject(tooLarge(maxBytes));
          } else chunks.push(chunk);
        };
        const onEnd = (): void => {
          done();
          resolve(Buffer.concat(chunks, total));
        };
        const onError = (error: Error): void => {
          done();
          reject(clientGone(error));
        };
        const onClose = (): void => {
          done();
          if (incoming.complete) resolve(Buffer.concat(chunks, total));
          else reject(clientGone());
        };
        incoming.on('data', onData);
        incoming.on('end', onEnd);
        incoming.on('error', onError);
        incoming.on('close', onClose);
      });
    },
  };
}
