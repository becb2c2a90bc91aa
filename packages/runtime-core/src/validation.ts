import * as v from 'valibot';
import { RuntimeError } from './errors.js';

/** One schema violation as reported in `details.issues`. */
export interface ValidationIssue {
  path: string;
  message: string;
}

// valibot's default messages end with `but received <the value>`: dropped, so an error never echoes
// (possibly huge, possibly secret) input back.
const RECEIVED = / but received .*$/s;

/**
 * A valibot issue's message fit for a caller or an operator: the echoed value ("but received …",
 * possibly huge, possibly a secret put in the wrong field) is cut, and a missing key reads "is required".
 */
export function cleanIssueMessage(issue: v.BaseIssue<unknown>): string {
  if (issue.message.startsWith('Invalid key:') && issue.received === 'undefined') return 'is required';
  return issue.message.replace(RECEIVED, '');
}

/** Turns valibot issues into `[{ path, message }]` with dotted paths (`''` for the root). */
export function toValidationIssues(issues: readonly v.BaseIssue<unknown>[]): ValidationIssue[] {
  return issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: cleanIssueMessage(issue) }));
}

/** The `invalid_request` error for a set of valibot issues. */
export function invalidRequest(what: string, issues: readonly v.BaseIssue<unknown>[]): RuntimeError {
  const list = toValidationIssues(issues);
  const first = list[0];
  const summary = first ? `${first.path ? `${first.path}: ` : ''}${first.message}` : 'invalid';
  return new RuntimeError('invalid_request', `invalid ${what}: ${summary}`, { details: { issues: list } });
}

/**
 * Parses `value` with `schema`.
 * @throws RuntimeError `invalid_request` with `details.issues`
 */
export function parseOrThrow<const TSchema extends v.GenericSchema>(
  schema: TSchema,
  value: unknown,
  what: string,
): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, value);
  if (!result.success) throw invalidRequest(what, result.issues);
  return result.output;
}
