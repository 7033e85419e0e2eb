import * as z from './core/zod';
import { errorCodesOf, routes as routeTable, type RouteDefinition } from './routes';
import { DEFAULT_SCHEMA_LIMITS, toGatewaySchema, type SchemaLimits } from './http/schemas';
import { ERROR_STATUS, errorModel, type ErrorCode } from './http/response-schemas';
import { REQUEST_ID_HEADER } from './http/results';

/** The OpenAPI 3.0 schema of an answer's body (`io: output`: what the handler sends). */
function responseSchema(schema: z.core.$ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
}

const HEADERS = {
  requestId: { description: 'The request id (API Gateway\'s when deployed), on every answer', schema: { type: 'string' } },
  etag: { description: 'The entry\'s version as a strong entity tag: "<version>"', schema: { type: 'string' } },
  retryAfter: { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

const SUCCESS_DESCRIPTION: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'Done; no body',
  304: 'Not modified: If-None-Match names the current version; no body',
};

/** The success answers of a route, from its `response` in the route table. */
function successResponses(route: RouteDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const status of route.response.status) {
    const headers: Record<string, unknown> = { [REQUEST_ID_HEADER]: HEADERS.requestId };
    if (route.response.etag) headers.ETag = HEADERS.etag;
    const withBody = (status === 200 || status === 201) && route.response.body;
    const content: Record<string, unknown> = {};
    if (withBody) content['application/json'] = { schema: responseSchema(route.response.body!()) };
    if (withBody && route.query?.some((q) => q.name === 'after')) {
      content['text/event-stream'] = { schema: { type: 'string', description: 'Server-Sent Events, with Accept: text/event-stream' } };
    }
    out[String(status)] = { description: SUCCESS_DESCRIPTION[status], headers, ...(withBody ? { content } : {}) };
  }
  return out;
}

/**
 * The error answers of a route: one per status, its codes those errorCodesOf lists for it. Each distinct answer is
 * a component (`<status>.<CODE>.<CODE>…`) that the operations refer to.
 */
function errorResponses(route: RouteDefinition, components: Record<string, unknown>): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(route)) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, unknown> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const name = [status, ...codes].join('.');
    if (!components[name]) {
      const headers: Record<string, unknown> = { [REQUEST_ID_HEADER]: HEADERS.requestId };
      if (status === 503) headers['Retry-After'] = HEADERS.retryAfter;
      components[name] = {
        description: `The JSON error model; error.code: ${codes.join(', ')} (docs/api.md, "Errors")`,
        headers,
        content: { 'application/json': { schema: responseSchema(errorModel(codes)) } },
      };
    }
    out[String(status)] = { $ref: `#/components/responses/${name}` };
  }
  return out;
}

/**
 * The OpenAPI 3 description of the API, generated from the route table: its request schemas (the same ones that
 * drive API Gateway validation and the handlers), its response schemas and error codes. `npm run docs` writes it
 * to docs/openapi.json.
 */
export function openApiDocument(
  table: readonly RouteDefinition[] = routeTable,
  limits: SchemaLimits = DEFAULT_SCHEMA_LIMITS,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorAnswers: Record<string, unknown> = {};
  for (const route of table) {
    const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      description: 'URL-encoded; keys are 1–1024 bytes of UTF-8 (or "_" with ?key=, which reaches any key)',
      schema: { type: 'string' },
    }));
    const queryParams = (route.query ?? []).map((q) => ({
      name: q.name,
      in: 'query',
      required: q.required,
      description: q.description,
      schema: { type: 'string' },
    }));
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId: route.id,
      summary: route.summary,
      parameters: [...pathParams, ...queryParams],
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: toGatewaySchema(route.body(limits)) } } } }
        : {}),
      responses: { ...successResponses(route), ...errorResponses(route, errorAnswers) },
      security: [{ apiKey: [] }],
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'skycache', version: '1', description: 'A Redis-grade cache over HTTPS (see docs/api.md)' },
    paths,
    components: {
      responses: Object.fromEntries(Object.entries(errorAnswers).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
    },
  };
}
