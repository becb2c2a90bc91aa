import type { JsonSchema } from '@valibot/to-json-schema';
import { type ErrorCode, ErrorCodeSchema, VERSION } from '@worker-runtime/core';
import type * as v from 'valibot';
import { ERROR_STATUS } from './http-errors.js';
import { componentSchemas, ERROR_SCHEMA_REF, jsonSchemaOf } from './openapi-schemas.js';
import type { RouteDef } from './route.js';

/** One parameter of an operation. */
export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: JsonSchema;
}

/** One response of an operation. */
export interface OpenApiResponse {
  description: string;
  headers: Record<string, { description: string; schema: JsonSchema }>;
  content: Record<string, { schema: JsonSchema }>;
}

/** One operation (a method of a path). */
export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Array<Record<string, string[]>>;
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, OpenApiResponse>;
}

/** The OpenAPI 3.1 document of the REST API. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  servers: Array<{ url: string; description: string }>;
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Partial<Record<'get' | 'post' | 'delete', OpenApiOperation>>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
}

/** Options of {@link createOpenApiDocument}. */
export interface OpenApiDocumentOptions {
  /** Base URL listed under `servers` (default: `http://127.0.0.1:7420`, where `worker-runtime serve` listens). */
  serverUrl?: string;
}

const DEFAULT_SERVER = 'http://127.0.0.1:7420';

const TAGS: OpenApiDocument['tags'] = [
  { name: 'runtime', description: 'The Runtime as a whole: summary, diagnostics, this document.' },
  { name: 'workers', description: 'Create Workers, send them input, cancel and stop them.' },
  { name: 'runs', description: "A Worker's runs and transcript." },
  { name: 'events', description: 'The durable event log, read by cursor.' },
  {
    name: 'streams',
    description: 'Live server-sent event streams of events and output deltas, resumable by event id.',
  },
  { name: 'health', description: 'Liveness and readiness probes; no token, no data.' },
];

// What any route can answer before or around its handler: a malformed request (unknown query,
// no Host), the gate (Origin, Host), the Runtime closing, a bug. Scoped routes add `unauthorized`.
const EVERY_ROUTE_ERRORS: readonly ErrorCode[] = [
  'invalid_request',
  'browser_access_denied',
  'forbidden_host',
  'runtime_unavailable',
  'internal',
];

// Answered by `serveRuntime` itself before a request reaches a route (both with `invalid_request`).
const TRANSPORT_ERRORS: ReadonlyArray<{ status: number; description: string }> = [
  { status: 408, description: 'Error: `invalid_request` — the request was not received in time (serveRuntime).' },
  { status: 431, description: 'Error: `invalid_request` — the request headers are too large (serveRuntime).' },
];

const REQUEST_ID_HEADER = {
  'x-request-id': {
    description: 'The request id: the caller’s sane `x-request-id`, or a generated one. Quote it in bug reports.',
    schema: { type: 'string' },
  },
} satisfies OpenApiResponse['headers'];

const STATUS_HEADERS: Record<number, OpenApiResponse['headers']> = {
  401: { 'www-authenticate': { description: 'Always `Bearer`.', schema: { type: 'string' } } },
  405: { allow: { description: 'The methods this path accepts.', schema: { type: 'string' } } },
  503: { 'retry-after': { description: 'Seconds to wait before retrying.', schema: { type: 'string' } } },
};

const CONTENT_TYPES = { json: 'application/json', text: 'text/plain', events: 'text/event-stream' } as const;

function errorResponse(status: number, description: string): OpenApiResponse {
  return {
    description,
    headers: { ...REQUEST_ID_HEADER, ...STATUS_HEADERS[status] },
    content: { 'application/json': { schema: ERROR_SCHEMA_REF } },
  };
}

function errorResponses(route: RouteDef): Record<string, OpenApiResponse> {
  const codes = new Set<ErrorCode>([...route.doc.errors, ...EVERY_ROUTE_ERRORS]);
  if (route.scope !== null) codes.add('unauthorized');
  const byStatus = new Map<number, string>();
  for (const code of ErrorCodeSchema.options) {
    if (!codes.has(code)) continue;
    const status = ERROR_STATUS[code];
    const listed = byStatus.get(status);
    byStatus.set(status, listed === undefined ? `Error: \`${code}\`` : `${listed}, \`${code}\``);
  }
  for (const { status, description } of TRANSPORT_ERRORS) byStatus.set(status, description);
  const responses: Record<string, OpenApiResponse> = {};
  for (const [status, description] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = errorResponse(status, description);
  }
  return responses;
}

function unwrapOptional(schema: v.GenericSchema): v.GenericSchema {
  return schema.type === 'optional' ? (schema as v.OptionalSchema<v.GenericSchema, undefined>).wrapped : schema;
}

function parameters(route: RouteDef): OpenApiParameter[] {
  const params = (route.doc.params as v.ObjectSchema<v.ObjectEntries, undefined> | undefined)?.entries ?? {};
  const list: OpenApiParameter[] = [];
  for (const segment of route.path.split('/')) {
    if (!segment.startsWith(':')) continue;
    const name = segment.slice(1);
    const schema = params[name];
    list.push({ name, in: 'path', required: true, schema: schema ? jsonSchemaOf(schema) : { type: 'string' } });
  }
  for (const [name, entry] of Object.entries(route.doc.query?.entries ?? {})) {
    list.push({ name, in: 'query', required: false, schema: jsonSchemaOf(unwrapOptional(entry)) });
  }
  return list;
}

/** The OpenAPI operation of one route. */
function operation(route: RouteDef): OpenApiOperation {
  const { doc } = route;
  const success: OpenApiResponse = {
    description: doc.success.description,
    headers: REQUEST_ID_HEADER,
    content: { [CONTENT_TYPES[doc.success.kind ?? 'json']]: { schema: jsonSchemaOf(doc.success.schema) } },
  };
  const list = parameters(route);
  return {
    operationId: doc.operationId,
    summary: doc.summary,
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    tags: doc.tags,
    security: route.scope !== null ? [{ bearerAuth: [] }] : [],
    ...(list.length > 0 ? { parameters: list } : {}),
    ...(doc.body
      ? {
          requestBody: {
            required: doc.body.required,
            content: { 'application/json': { schema: jsonSchemaOf(doc.body.schema) } },
          },
        }
      : {}),
    responses: {
      [String(doc.success.status)]: success,
      ...(doc.alsoSuccess
        ? {
            [String(doc.alsoSuccess.status)]: {
              ...success,
              description: doc.alsoSuccess.description,
              ...(doc.alsoSuccess.events
                ? {
                    content: {
                      ...success.content,
                      [CONTENT_TYPES.events]: { schema: jsonSchemaOf(doc.alsoSuccess.events) },
                    },
                  }
                : {}),
            },
          }
        : {}),
      ...errorResponses(route),
    },
  };
}

/** Builds the OpenAPI 3.1 document of a route table (the same table both transports serve). */
export function buildOpenApiDocument(
  routes: readonly RouteDef[],
  { serverUrl = DEFAULT_SERVER }: OpenApiDocumentOptions = {},
): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const path = route.path.replace(/:([a-z_]+)/g, '{$1}');
    const method = route.method.toLowerCase() as 'get' | 'post' | 'delete';
    paths[path] = { ...paths[path], [method]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'worker-runtime REST API',
      version: VERSION,
      description:
        'Drives a worker-runtime Runtime from a trusted backend. Browsers must never call it and must never ' +
        'receive a Runtime credential: they talk to your backend, which calls this API.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [
      {
        url: serverUrl,
        description:
          serverUrl === DEFAULT_SERVER ? 'Where `worker-runtime serve` listens by default' : 'The Runtime server',
      },
    ],
    tags: TAGS,
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'The Runtime token: a backend-to-Runtime credential, never given to a browser.',
        },
      },
    },
  };
}
