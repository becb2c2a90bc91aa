import * as v from 'valibot';
import { buildOpenApiDocument } from '../openapi.js';
import type { RouteDef } from '../route.js';

/** `GET /v1/openapi.json` for a route table (passed lazily: the table contains this route). */
export function openApiRoute(table: () => readonly RouteDef[]): RouteDef {
  let json: Buffer | undefined;
  return {
    method: 'GET',
    path: '/v1/openapi.json',
    scope: 'read',
    doc: {
      operationId: 'getOpenApiDocument',
      summary: 'This OpenAPI document',
      description: 'OpenAPI 3.1, generated from the route table and the valibot schemas the Runtime validates with.',
      tags: ['runtime'],
      success: { status: 200, description: 'The OpenAPI 3.1 document', schema: v.record(v.string(), v.unknown()) },
      errors: [],
    },
    async handle() {
      json ??= Buffer.from(JSON.stringify(buildOpenApiDocument(table())));
      return { status: 200, json };
    },
  };
}
