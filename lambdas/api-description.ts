import { routes as routeTable, type RouteDefinition } from './routes';
import { DEFAULT_SCHEMA_LIMITS, toGatewaySchema, type SchemaLimits } from './http/schemas';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
    },
  },
};

/**
 * The OpenAPI 3 description of the API, generated from the route table and its request schemas (the same ones
 * that drive API Gateway validation and the handlers). `npm run docs` writes it to docs/openapi.json.
 */
export function openApiDocument(
  table: readonly RouteDefinition[] = routeTable,
  limits: SchemaLimits = DEFAULT_SCHEMA_LIMITS,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of table) {
    const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      description: 'URL-encoded; keys are 1–1024 bytes of UTF-8',
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
      responses: {
        default: {
          description: 'Success (2xx/304) or a JSON error (4xx/5xx)',
          content: { 'application/json': { schema: { oneOf: [{ type: 'object' }, errorSchema] } } },
        },
      },
      security: [{ apiKey: [] }],
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'skycache', version: '1', description: 'A Redis-grade cache over HTTPS (see docs/api.md)' },
    paths,
    components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } } },
  };
}
