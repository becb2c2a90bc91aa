/** A printable cell value. */
export type Cell = string | number | boolean | null | undefined;

function text(value: Cell): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}

// Control characters in user content (ANSI escapes, carriage returns) must not rewrite the terminal.
function safe(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return value.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}

/** Aligned columns with an upper-case header row; one line per row, newline-terminated. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = [
    headers.map((header) => header.toUpperCase()),
    ...rows.map((row) => row.map((cell) => safe(text(cell)))),
  ];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** `key: value` lines with the values aligned. */
export function formatFields(fields: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(0, ...fields.map(([key]) => key.length + 1));
  return fields.map(([key, value]) => `${`${key}:`.padEnd(width)} ${safe(text(value))}\n`).join('');
}

/** One JSON value on one compact line: `--json` output is one value per line so scripts can read it line by line. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** The same as {@link formatJson}; the name streams (`events --follow --json`) use. */
export const formatJsonLine: (value: unknown) => string = formatJson;

/** Content shown as-is except for control characters (newlines and tabs stay). */
export function formatContent(value: string): string {
  return safe(value);
}
