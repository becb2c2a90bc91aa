import type * as v from 'valibot';
import { toValidationIssues, type ValidationIssue } from './validation.js';

/**
 * Like {@link toValidationIssues}, worded for configuration an operator wrote: a key a strict
 * object does not know reads `unknown field` (a typo, usually), the same for profiles and for a
 * config file's top-level keys.
 */
export function toConfigIssues(issues: readonly v.BaseIssue<unknown>[]): ValidationIssue[] {
  return toValidationIssues(issues).map((issue, index) => {
    const source = issues[index];
    return source?.type === 'strict_object' && source.expected === 'never'
      ? { path: issue.path, message: 'unknown field' }
      : issue;
  });
}
