/**
 * Control characters (C0, DEL, C1), line and paragraph separators and bidi overrides: echoed raw
 * they could forge log lines or terminal output, or hide what a message says.
 */
function isUnsafe(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * `text` fit to echo in an error message or issue path: unsafe characters written as `\uXXXX`,
 * then cut to `max` characters (ending in `…`). Client-chosen names (unknown query or body keys)
 * reach messages, so nothing raw or unbounded does.
 */
export function wireText(text: string, max: number): string {
  let out = '';
  for (let i = 0; i < text.length && out.length <= max; i++) {
    const code = text.charCodeAt(i);
    out += isUnsafe(code) ? `\\u${code.toString(16).padStart(4, '0')}` : text[i];
  }
  return out.length <= max ? out : `${out.slice(0, max - 1)}…`;
}
