import { RuntimeError } from '@worker-runtime/core';
import pg from 'pg';
import * as v from 'valibot';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Quotes a schema name for SQL. Only lowercase identifiers are accepted, so the name means the same
 * quoted or not and cannot inject anything.
 * @throws RuntimeError `invalid_request` for any other name
 */
export function quoteIdent(name: string): string {
  if (!SCHEMA_NAME.test(name)) {
    throw new RuntimeError('invalid_request', 'schema must be a lowercase SQL identifier (a-z, 0-9, _)');
  }
  return `"${name}"`;
}

/**
 * Wraps a driver error as `store_unavailable`. The driver's message is kept only when it is a server
 * error (those name tables and constraints, never the connection string); connection failures get a
 * fixed text, since some of them echo connection parameters.
 */
export function storeError(error: unknown, doing: string): RuntimeError {
  if (error instanceof RuntimeError) return error;
  if (error instanceof pg.DatabaseError) {
    return new RuntimeError('store_unavailable', `could not ${doing}: ${error.message}`, {
      details: { sqlstate: error.code },
    });
  }
  return new RuntimeError('store_unavailable', `could not ${doing}: the database connection failed`, { details: {} });
}

/** Parses a JSON column written by this store and checks it against core's schema. */
export function decode<const S extends v.GenericSchema>(schema: S, text: string): v.InferOutput<S> {
  const checked = v.safeParse(schema, JSON.parse(text));
  if (!checked.success)
    throw new RuntimeError('store_unavailable', 'the database holds a record this version cannot read');
  return checked.output;
}
