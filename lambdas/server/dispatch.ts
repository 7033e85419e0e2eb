import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { apiHandlers } from '../handlers';
import { errorResult, runOperation, type BoundOperation, type RouteInput } from '../http/middleware';
import { RouteMatcher, routeRequest, send, type RoutedRequest } from '../http/node-http';
import { toProxyResult } from '../http/results';
import { routes as routeTable, type RouteDefinition } from '../routes';
import type { RouteDispatcher } from './app';

/** How long keyspace-wide work (prefix or tag invalidation) may run: API Gateway's own limit, as on the other front. */
const ROUTE_TIME_LIMIT_MS = 29_000;

/**
 * The route table served by calling each route's code directly: the same operations the Lambda handlers wrap
 * (lambdas/handlers/), run by the same runOperation (body schema, key validation, Redis deadline, error model),
 * without building an API Gateway event per request.
 */
export function createDispatcher(table: readonly RouteDefinition[] = routeTable): RouteDispatcher {
  const matcher = new RouteMatcher(table);
  const operations = new Map<string, BoundOperation>();
  for (const route of table) {
    const bound = apiHandlers[route.handler]?.operations.get(route.id);
    if (!bound) throw new Error(`no operation serves route ${route.id} (handler module ${route.handler})`);
    operations.set(route.id, bound);
  }
  return async (req, res, requestId) => {
    const routed = await routeRequest(req, res, requestId, matcher);
    if (typeof routed === 'number') return { bytes: routed };
    let result;
    try {
      result = await runOperation(operations.get(routed.route.id)!, inputOf(req, routed, requestId));
    } catch (e) {
      result = errorResult(e);
    }
    const answer = toProxyResult(result, requestId);
    return { resourcePath: routed.route.path, bytes: send(res, answer.statusCode, answer.headers as Record<string, string>, answer.body) };
  };
}

function inputOf(req: IncomingMessage, { params, target, body }: RoutedRequest, requestId: string): RouteInput {
  const started = Date.now();
  let query: Record<string, string> | null = null;
  for (const [name, value] of target.query) (query ??= {})[name] = value;
  // A body that is not UTF-8 travels base64-encoded, as API Gateway sends binary: the route refuses it as such.
  const binary = body.length > 0 && !isUtf8(body);
  return {
    requestId,
    pathParameters: params,
    queryStringParameters: query,
    header: (name) => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    body: body.length ? body.toString(binary ? 'base64' : 'utf8') : null,
    isBase64Encoded: binary,
    remainingMs: () => ROUTE_TIME_LIMIT_MS - (Date.now() - started),
  };
}
