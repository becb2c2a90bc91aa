import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** What a tool call gives the model: the text of a `tool` transcript entry. */
export interface ToolOutcome {
  content: string;
  is_error: boolean;
}

/**
 * The text the model sees for an MCP tool result: text blocks as they are, embedded text
 * resources by their text, and a short placeholder for binary content (images, audio, blobs) the
 * chat API cannot take in a tool message. Without content blocks, `structuredContent` as JSON.
 * Text past `maxBytes` is cut, with a note saying so.
 */
export function toolResultText(result: CallToolResult, maxBytes: number): string {
  const parts = (result.content ?? []).map((block): string => {
    switch (block.type) {
      case 'text':
        return block.text;
      case 'resource':
        return 'text' in block.resource ? block.resource.text : `[binary resource ${block.resource.uri}]`;
      case 'resource_link':
        return `[resource ${block.uri}]`;
      default:
        return `[${block.type} content (${'mimeType' in block ? block.mimeType : 'binary'}) not shown]`;
    }
  });
  let text = parts.join('\n');
  if (parts.length === 0 && result.structuredContent !== undefined) text = JSON.stringify(result.structuredContent);
  return capText(text, maxBytes);
}

/** `text` cut to at most `maxBytes` UTF-8 bytes (never inside a character), with a note when cut. */
export function capText(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const cut = Buffer.from(text)
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return `${cut}\n[cut: the tool result exceeded max_output_bytes (${maxBytes} bytes)]`;
}
