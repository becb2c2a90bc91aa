import { invalidRequest, RuntimeError, type ValidationIssue } from '@worker-runtime/core';
import * as v from 'valibot';

/** A core query schema: a strict object whose entries are (optional) numbers or strings. */
export type CoreQuerySchema = v.StrictObjectSchema<v.ObjectEntries, v.ErrorMessage<v.StrictObjectIssue> | undefined>;

/** Parses a URL query into the object a core query schema expects. */
export type QueryParser = (url: string) => Record<string, unknown>;

const INTEGER_TEXT = /^-?[0-9]{1,16}$/;

/** `"42"` → `42`; anything that is not a plain base-10 integer is an issue. */
const IntegerTextSchema = v.pipe(
  v.string(),
  v.regex(INTEGER_TEXT, 'must be an integer'),
  v.transform((text: string): number => Number(text)),
  v.check((value: number) => Number.isSafeInteger(value), 'must be a safe integer'),
);

function isNumberEntry(entry: v.ObjectEntries[string]): boolean {
  const inner = entry.type === 'optional' ? (entry as v.OptionalSchema<v.GenericSchema, undefined>).wrapped : entry;
  return inner.type === 'number';
}

/**
 * Derives the HTTP query parser for a core query schema: number entries are read from their
 * decimal text and checked with the core entry (so `limit=0` fails here with the core message);
 * strings pass through, and the Runtime validates them with the same schema. Unknown keys and
 * keys given twice are issues (the API has no list-valued query parameters).
 */
export function createQueryParser(schema: CoreQuerySchema): QueryParser {
  const entries: v.ObjectEntries = {};
  for (const [key, entry] of Object.entries(schema.entries)) {
    if (isNumberEntry(entry)) entries[key] = v.optional(v.pipe(IntegerTextSchema, entry as v.GenericSchema<number>));
  }
  const coerce = v.looseObject(entries);
  return function parseQuery(url) {
    const result = v.safeParse(coerce, readQuery(url, schema.entries));
    if (!result.success) throw invalidRequest('query', result.issues);
    return result.output;
  };
}

const NO_ENTRIES: v.ObjectEntries = {};

/**
 * Refuses any query on a route that takes none, as routes with a query schema refuse unknown keys.
 * @throws RuntimeError `invalid_request` with `details.issues`
 */
export function assertNoQuery(url: string): void {
  readQuery(url, NO_ENTRIES);
}

/** The query's raw values by key; unknown and repeated keys are issues. */
function readQuery(url: string, known: v.ObjectEntries): Record<string, string> {
  const start = url.indexOf('?');
  const raw: Record<string, string> = {};
  if (start === -1) return raw;
  const issues: ValidationIssue[] = [];
  for (const [key, value] of new URLSearchParams(url.slice(start + 1))) {
    if (!Object.hasOwn(known, key)) issues.push({ path: key, message: 'is not a known query parameter' });
    else if (Object.hasOwn(raw, key)) issues.push({ path: key, message: 'must appear at most once' });
    else raw[key] = value;
  }
  if (issues.length > 0) {
    const first = issues[0] as ValidationIssue;
    throw new RuntimeError('invalid_request', `invalid query: ${first.path}: ${first.message}`, {
      details: { issues },
    });
  }
  return raw;
}
