import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { RuntimeError } from '@worker-runtime/core';

/**
 * Reads a bearer token from a file (surrounding whitespace and the trailing newline are dropped).
 * Messages name the file by its basename only and never show its content.
 * @throws RuntimeError `invalid_request` when the file cannot be read or is empty
 */
export async function readTokenFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new RuntimeError('invalid_request', `cannot read token file ${basename(path)}: ${code}`);
  }
  const token = text.trim();
  if (token === '') throw new RuntimeError('invalid_request', `token file ${basename(path)} is empty`);
  return token;
}
