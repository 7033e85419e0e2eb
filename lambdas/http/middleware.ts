import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { CacheError } from '../core/errors';
import { STATUS_OF, errorBody, header, toProxyResult, type HttpResult } from './results';
import { withDeadline } from '../core/deadline';
import { logger } from '../core/logger';
import { whenReady } from '../core/readiness';
import { translateRedisError } from '../core/redis';
import { routeSignature, type BodyOf, type RouteDefinition, type RouteId } from '../routes';
import { describeIssues, keySchema, type SchemaLimits } from './schemas';
import { builtServices, readyServices, services, type Services } from '../services';

/** What a route's code sees: the validated body and helpers, no Lambda types. */
export interface RouteRequest<B> {
  body: B;
  services: Services;
  requestId: string;
  /**
   * A validated cache key from the path parameter or, when there is none or it is `_` (KEY_FROM_QUERY), the `key`
   * query parameter.
   */
  key(name?: string): string;
  query(name: string): string | undefined;
  header(name: string): string | undefined;
}

/** A route's code. Its method, path, body schema and query parameters are the route table's (lambdas/routes.ts). */
export interface Operation<B> {
  handle: (request: RouteRequest<B>) => Promise<HttpResult>;
  /**
   * Keyspace-wide work (prefix or tag invalidation over millions of keys) may run until shortly before the
   * function's own timeout instead of REDIS_TIMEOUT_MS; each Redis command it sends is still bounded by that.
   */
  keyspaceWide?: boolean;
  /** Whether this request needs a live Redis connection first (default yes; deployed stats read CloudWatch only). */
  needsRedis?: (services: Services) => boolean;
}

/** The path segment that stands for the key given as the `key` query parameter (see docs/api.md, "Keys"). */
export const KEY_FROM_QUERY = '_';

/** Time kept back from the function's timeout to answer (and log) before Lambda cuts the invocation off. */
const ANSWER_MARGIN_MS = 1000;

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const requestIds = new WeakMap<object, string>();
function requestIdOf(event: APIGatewayProxyEvent): string {
  let id = requestIds.get(event);
  if (!id) {
    id = event.requestContext?.requestId || randomUUID();
    requestIds.set(event, id);
  }
  return id;
}

/**
 * Building a zod schema costs far more than running it, so each schema is built once per limits object (the
 * process-wide services hold one) and reused by every request.
 */
const builtSchemas = new WeakMap<(limits: SchemaLimits) => unknown, WeakMap<SchemaLimits, unknown>>();
function schemaFor<S>(build: (limits: SchemaLimits) => S, limits: SchemaLimits): S {
  let byLimits = builtSchemas.get(build);
  if (!byLimits) builtSchemas.set(build, (byLimits = new WeakMap()));
  let schema = byLimits.get(limits) as S | undefined;
  if (schema === undefined) byLimits.set(limits, (schema = build(limits)));
  return schema;
}

/**
 * One request as a route's code receives it, from either front: the Lambda handler builds it from API Gateway's
 * proxy event, the production server (lambdas/server/) from Node's request, without an event in between.
 */
export interface RouteInput {
  requestId: string;
  /** Path parameters, decoded. */
  pathParameters: Readonly<Record<string, string | undefined>> | null;
  /** Query parameters, decoded (the last of a repeated name, as API Gateway's queryStringParameters). */
  queryStringParameters: Readonly<Record<string, string | undefined>> | null;
  header(name: string): string | undefined;
  /** The body as received (base64 when isBase64Encoded), or null. */
  body: string | null;
  isBase64Encoded: boolean;
  /** Milliseconds left before the front cuts the request off (keyspace-wide work may run until shortly before). */
  remainingMs(): number;
}

/** Rejects before the body is read: a JSON API takes JSON. */
function parseJsonBody(event: RouteInput): unknown {
  const contentType = event.header('content-type');
  if (contentType && !/^application\/([\w.+-]*\+)?json\b/i.test(contentType.trim())) {
    throw new CacheError('UNSUPPORTED_MEDIA_TYPE', `content-type must be application/json, not "${contentType}"`);
  }
  let text = event.body;
  if (event.isBase64Encoded && text) {
    const bytes = Buffer.from(text, 'base64');
    // Decoding would put U+FFFD where the bad bytes are, and two different keys would then collide.
    if (!isUtf8(bytes)) throw new CacheError('INVALID_JSON', 'request body is not valid UTF-8');
    text = bytes.toString('utf8');
  }
  if (!text) throw new CacheError('BAD_REQUEST', 'request body is required (a JSON object)');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CacheError('INVALID_JSON', `request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Any failure of a route as the JSON error model: a CacheError's status; anything unknown a 500 without detail. */
export function errorResult(error: unknown, retryAfterSeconds = currentRetryAfterSeconds()): HttpResult {
  const known = error instanceof CacheError ? error : translateRedisError(error);
  if (known.code === 'INTERNAL') {
    logger.error('request failed', error as Error);
    return { status: 500, body: errorBody('INTERNAL', 'the request could not be completed') };
  }
  const headers = known.code === 'UNAVAILABLE' ? { 'retry-after': String(retryAfterSeconds) } : undefined;
  return { status: STATUS_OF[known.code], body: errorBody(known.code, known.message, known.details), headers };
}

function currentRetryAfterSeconds(): number {
  try {
    return services().config.retryAfterSeconds;
  } catch {
    return 1; // configuration itself failed: keep the default
  }
}

/** A handler module's code, by the id of each route it serves; each handle sees the body its route's schema produces. */
export type Operations = { [Id in RouteId]?: Operation<BodyOf<Id>> };

/**
 * A Lambda handler, with the ids of the routes it serves (a test holds them against the route table) and their
 * operations by route id (the production server calls them directly, with runOperation).
 */
export type RoutedHandler = ProxyHandler & { readonly routeIds: readonly string[]; readonly operations: ReadonlyMap<string, BoundOperation> };

export interface BoundOperation {
  route: RouteDefinition;
  operation: Operation<unknown>;
}

/**
 * Wraps a handler module's operations as one Lambda handler (API Gateway REST proxy event in, proxy result out):
 * pick the route by the event's method and resource, parse and validate the body with the route's schema, call the
 * domain within the Redis deadline, map the result or the error to HTTP. `table`: the module's own routes
 * (lambdas/routes.ts), so its bundle carries no other route's schema.
 */
export function routedHandler(operations: Operations, table: readonly RouteDefinition[]): RoutedHandler {
  const bySignature = new Map<string, BoundOperation>();
  for (const [id, operation] of Object.entries(operations)) {
    const route = table.find((r) => r.id === id);
    if (!route) throw new Error(`the route table has no route "${id}"`);
    bySignature.set(routeSignature(route), { route, operation: operation as Operation<unknown> });
  }
  const handler = wrapRoute((event) => {
    const bound = bySignature.get(`${event.httpMethod} ${event.resource}`);
    if (!bound) throw new CacheError('ROUTE_NOT_FOUND', `no route for ${event.httpMethod} ${event.resource}`);
    return bound;
  });
  const byId = new Map([...bySignature.values()].map((b) => [b.route.id, b]));
  return Object.assign(handler, { routeIds: Object.keys(operations), operations: byId });
}

/**
 * Runs one route's code on one request — what both fronts share: parse and validate the body with the route's
 * schema, give the code its key, query and header helpers, wait for Redis and bound the work by the deadline.
 * Throws what errorResult maps to the JSON error model.
 */
export async function runOperation({ route, operation: spec }: BoundOperation, event: RouteInput): Promise<HttpResult> {
  // Built once per process: later requests skip the await (a microtask turn each).
  const svc = builtServices() ?? (await readyServices());
  refuseUnknownQuery(route, event.queryStringParameters);
  let body: unknown = undefined;
  if (route.body) {
    const input = parseJsonBody(event);
    const parsed = schemaFor(route.body, svc.schemaLimits).safeParse(input);
    if (!parsed.success) throw new CacheError('VALIDATION_FAILED', describeIssues(parsed.error, input));
    body = parsed.data;
  }
  const request: RouteRequest<unknown> = {
    body,
    services: svc,
    requestId: event.requestId,
    key(name = 'key') {
      const inPath = event.pathParameters?.[name];
      const inQuery = event.queryStringParameters?.[name];
      // `_` in the key's place defers to `?key=`: the form that reaches every key, "." and ".." included
      // (clients and proxies remove such path segments).
      const raw = inPath === KEY_FROM_QUERY && inQuery !== undefined ? inQuery : (inPath ?? inQuery);
      if (raw === undefined || raw === null) throw new CacheError('INVALID_KEY', `the "${name}" parameter is required`);
      const checked = schemaFor(keySchema, svc.schemaLimits).safeParse(raw);
      if (!checked.success) {
        throw new CacheError('INVALID_KEY', `${name}: ${[...new Set(checked.error.issues.map((i) => i.message))].join('; ')}`);
      }
      return checked.data;
    },
    query: (name) => {
      if (!route.query?.some((q) => q.name === name)) {
        throw new Error(`route ${route.id} reads the query parameter "${name}", which the route table does not declare`);
      }
      return event.queryStringParameters?.[name] ?? undefined;
    },
    header: (name) => event.header(name),
  };
  const started = Date.now();
  const budget = spec.keyspaceWide ? Math.max(svc.config.redisTimeoutMs, event.remainingMs() - ANSWER_MARGIN_MS) : svc.config.redisTimeoutMs;
  if ((spec.needsRedis?.(svc) ?? true) && svc.redis.status !== 'ready') await whenReady(svc.redis, svc.config.redisTimeoutMs);
  // Past the deadline the client gets a 503, never a Lambda timeout.
  return withDeadline(spec.handle(request), Math.max(1, budget - (Date.now() - started)));
}

/**
 * The query parameters a route takes: those the route table declares, and its path parameters' names (the `?key=`
 * form of every keyed route). Any other is refused, as an unknown body field is: a misspelt `withscores=true` would
 * otherwise be ignored without a word.
 */
const queryNamesOf = new WeakMap<RouteDefinition, Set<string>>();
function refuseUnknownQuery(route: RouteDefinition, query: RouteInput['queryStringParameters']): void {
  if (!query) return;
  let known = queryNamesOf.get(route);
  if (!known) {
    known = new Set([...(route.query ?? []).map((q) => q.name), ...[...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])]);
    queryNamesOf.set(route, known);
  }
  const unknown = Object.keys(query).filter((name) => !known.has(name));
  if (unknown.length) {
    const takes = known.size ? `this route takes ${[...known].map((n) => `"${n}"`).join(', ')}` : 'this route takes none';
    throw new CacheError('VALIDATION_FAILED', `unknown query parameter(s) ${unknown.map((n) => `"${n}"`).join(', ')} (${takes})`);
  }
}

/**
 * Puts the invocation's context (function, request id, cold start) on the log lines, as Powertools'
 * injectLambdaContext would; that middleware also resets keys and sampling per request, which these handlers do not
 * use, and cost about 16 µs per request. The logger attaches the context only when a line is written
 * (ServiceLogger.useContext): a request that logs nothing pays for handing it over (bench section 1, "logger context").
 */
const logContext = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  before: (request) => {
    logger.useContext(request.context ?? ({} as Context));
  },
});

/** Answers every failure as the JSON error model, with the request id, and never a stack trace. */
const errorResponder = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  onError: (request) => {
    request.response = toProxyResult(errorResult(request.error), requestIdOf(request.event));
  },
});

/**
 * The Lambda handler around the route code: middy with two hooks (logger context, error model) around the route.
 * middy's own chain costs about 2 µs per request (bench section 1, "middy"); its early timeout is off because
 * withDeadline already answers 503 well before the Lambda timeout, and middy's TimeoutError would surface as a 500.
 */
function wrapRoute(boundOf: (event: APIGatewayProxyEvent) => BoundOperation): ProxyHandler {
  const core = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const requestId = requestIdOf(event);
    const input: RouteInput = {
      requestId,
      pathParameters: event.pathParameters,
      queryStringParameters: event.queryStringParameters,
      header: (name) => header(event, name),
      body: event.body,
      isBase64Encoded: event.isBase64Encoded,
      remainingMs: () => context?.getRemainingTimeInMillis?.() ?? 0,
    };
    return toProxyResult(await runOperation(boundOf(event), input), requestId);
  };
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>({ timeoutEarlyInMillis: 0 })
    .use(logContext())
    .use(errorResponder())
    .handler(core) as unknown as ProxyHandler;
}
