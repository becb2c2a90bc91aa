/** How much of an error body is read: enough for any JSON error, not a whole HTML page. */
const ERROR_BODY_BYTES = 64 * 1024;
/** How much of a plain-text error body is quoted. */
const QUOTED_CHARS = 300;

/** Reads at most `maxBytes` of a response body as text, then lets the rest go. */
export async function readTextCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/**
 * The provider's own words from an error payload: OpenAI's `{error: {message}}`, Ollama's
 * `{error: "…"}`, or a bare `{message}` / `{detail}`; null when there are none.
 */
export function providerMessage(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const { error, message, detail } = payload as { error?: unknown; message?: unknown; detail?: unknown };
  if (typeof error === 'string' && error) return error;
  if (typeof error === 'object' && error !== null) {
    const inner = (error as { message?: unknown }).message;
    if (typeof inner === 'string' && inner) return inner;
  }
  if (typeof message === 'string' && message) return message;
  if (typeof detail === 'string' && detail) return detail;
  return null;
}

/** `the provider answered HTTP <status>: <the provider's message>` for a non-2xx response. */
export async function httpFailureMessage(response: Response): Promise<string> {
  const text = await readTextCapped(response, ERROR_BODY_BYTES).catch(() => '');
  let message: string | null = null;
  try {
    message = providerMessage(JSON.parse(text));
  } catch {
    // Not JSON: quote a short plain-text body, never an HTML page.
    const plain = text.replace(/\s+/g, ' ').trim();
    if (plain && !plain.startsWith('<'))
      message = plain.length > QUOTED_CHARS ? `${plain.slice(0, QUOTED_CHARS)}…` : plain;
  }
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  return `the provider answered ${status}${message ? `: ${message}` : ''}`;
}

/** Why a request never got an answer, in words (`ECONNREFUSED`, `ENOTFOUND`, …). */
export function networkFailureReason(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  if (cause instanceof Error && cause.message) return cause.message;
  return error instanceof Error && error.message ? error.message : 'unknown error';
}

/** Replaces every occurrence of `secret` in `text`, so a provider that echoes the key cannot leak it. */
export function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[redacted]') : text;
}
