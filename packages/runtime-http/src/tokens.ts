import { createHash } from 'node:crypto';
import { toValidationIssues } from '@worker-runtime/core';
import * as v from 'valibot';
import type { Scope } from './route.js';

/** The scopes a token may hold, weakest first: each includes the ones before it (SPEC §14). */
export const TOKEN_SCOPES = ['read', 'control', 'admin'] as const satisfies readonly Scope[];

/** A bearer token's text: 1-4096 visible ASCII characters, no spaces. */
const TokenTextSchema = v.pipe(
  v.string(),
  v.regex(/^[\x21-\x7e]{1,4096}$/, 'must be 1-4096 visible ASCII characters without spaces'),
);

/**
 * One credential of a token set: a `name` (what logs show, never the token), the token itself or
 * the hex SHA-256 of it, and its scopes (`read` ⊂ `control` ⊂ `admin`).
 */
export const RuntimeTokenSchema = v.pipe(
  v.strictObject({
    name: v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 of A-Z a-z 0-9 . _ -, starting alphanumeric'),
    ),
    token: v.optional(TokenTextSchema),
    sha256: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits'))),
    scopes: v.pipe(v.array(v.picklist(TOKEN_SCOPES, 'must be read, control or admin')), v.minLength(1)),
  }),
  v.check(
    (entry) => (entry.token === undefined) !== (entry.sha256 === undefined),
    'needs exactly one of token, sha256',
  ),
);

/** One credential of a token set (see {@link RuntimeTokenSchema}). */
export type RuntimeToken = v.InferOutput<typeof RuntimeTokenSchema>;

/** A token set: at least one credential, names unique. */
export const RuntimeTokensSchema = v.pipe(
  v.array(RuntimeTokenSchema),
  v.minLength(1, 'must hold at least one token'),
  v.check((tokens) => new Set(tokens.map((t) => t.name)).size === tokens.length, 'token names must be unique'),
);

/** The JSON token file of `--token-file` (SPEC §14): `{"tokens": [...]}`. */
export const TokenFileSchema = v.strictObject({ tokens: RuntimeTokensSchema });

/** The name the one `token` option (and `WORKER_RUNTIME_TOKEN`) carries in logs: it is an admin token. */
export const SINGLE_TOKEN_NAME = 'default';

/** A credential as the gate checks it: the SHA-256 digest of the token and the strongest scope. */
export interface Credential {
  name: string;
  digest: Buffer;
  /** Index in {@link TOKEN_SCOPES} of the strongest scope held. */
  rank: number;
}

/** The SHA-256 digest of a token's text. */
export function tokenDigest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The first problem of a token set, located (`tokens[1].scopes[0]: must be read, control or admin`);
 * messages never echo a value (a token may be in it).
 */
export function tokenIssue(issues: readonly v.BaseIssue<unknown>[], root = ''): string {
  const [issue] = toValidationIssues(issues);
  const dotted = issue?.path ?? '';
  const path = (root && dotted ? `${root}.${dotted}` : root || dotted).replace(/\.(\d+)(?=\.|$)/g, '[$1]');
  return path ? `${path}: ${issue?.message ?? 'invalid'}` : (issue?.message ?? 'invalid');
}

/** The credentials of a token set, or of one token (scope `admin`); none means no authentication. */
export function toCredentials(token: string | undefined, tokens: readonly RuntimeToken[] | undefined): Credential[] {
  const list: RuntimeToken[] = [...(tokens ?? [])];
  if (token !== undefined) list.push({ name: SINGLE_TOKEN_NAME, token, scopes: ['admin'] });
  return list.map((entry) => ({
    name: entry.name,
    digest: entry.sha256 !== undefined ? Buffer.from(entry.sha256, 'hex') : tokenDigest(entry.token as string),
    rank: Math.max(...entry.scopes.map((scope) => TOKEN_SCOPES.indexOf(scope))),
  }));
}
