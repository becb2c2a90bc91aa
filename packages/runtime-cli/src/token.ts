import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { RuntimeError } from '@worker-runtime/core';
import { type RuntimeToken, TokenFileSchema, tokenIssue } from '@worker-runtime/http';
import * as v from 'valibot';
import { jsonPosition } from './config-file.js';

/** What a token file holds: one token (scope `admin`), or a set of scoped tokens. */
export type TokenFileContent = { token: string; tokens?: undefined } | { token?: undefined; tokens: RuntimeToken[] };

/**
 * Reads a token file: one bearer token (surrounding whitespace and the trailing newline are
 * dropped), or, when it starts with `{`, the JSON `{"tokens": [{name, token | sha256, scopes}]}`.
 * Messages name the file by its basename only and never show its content.
 * @throws RuntimeError `invalid_request` when the file cannot be read, is empty, or is an invalid token set
 */
export async function readTokenFile(path: string): Promise<TokenFileContent> {
  const name = basename(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new RuntimeError('invalid_request', `cannot read token file ${name}: ${code}`);
  }
  const token = text.trim();
  if (token === '') throw new RuntimeError('invalid_request', `token file ${name} is empty`);
  if (!token.startsWith('{')) return { token };
  let raw: unknown;
  try {
    raw = JSON.parse(token);
  } catch (error) {
    // JSON.parse quotes the text around the problem: only its position is shown.
    throw new RuntimeError(
      'invalid_request',
      `invalid token file ${name}: not valid JSON${jsonPosition(token, (error as Error).message)}`,
    );
  }
  const parsed = v.safeParse(TokenFileSchema, raw);
  if (!parsed.success) {
    throw new RuntimeError('invalid_request', `invalid token file ${name}: ${tokenIssue(parsed.issues)}`);
  }
  return { tokens: parsed.output.tokens };
}

/**
 * Reads the one token a client presents from a token file.
 * @throws RuntimeError `invalid_request` as {@link readTokenFile}, and for a file holding a token set
 */
export async function readClientTokenFile(path: string): Promise<string> {
  const content = await readTokenFile(path);
  if (content.token === undefined) {
    throw new RuntimeError(
      'invalid_request',
      `token file ${basename(path)} holds a token set (for serve); a client needs a file with its one token`,
    );
  }
  return content.token;
}
