import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { resetRuntimeConfig } from '../../lambdas/core/config';
import { closeServices, resetServices } from '../../lambdas/services';
import type { RedisClient } from '../../lambdas/core/redis';
import { routes } from '../../lambdas/routes';
import { proxyEvent, type SampleRequest } from './events';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The handler a route's module exports, as the local server loads it. */
export function loadHandler(module: string): ProxyHandler {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(`../../lambdas/handlers/${module}`).handler as ProxyHandler;
}

/** Points the handlers' process-wide services at `redisUrl` (optionally with a client the bench made). */
export function useRedisForHandlers(redisUrl: string, client?: RedisClient): void {
  process.env.REDIS_URL = redisUrl;
  resetRuntimeConfig();
  resetServices(client);
}

export { closeServices };

/** Calls a route's handler in process with a sample request; throws unless it answers 2xx (for set-up steps). */
export function callRoute(ctx: Context): (routeId: string, request: SampleRequest) => Promise<APIGatewayProxyResult> {
  return async (routeId, request) => {
    const route = routes.find((r) => r.id === routeId);
    if (!route) throw new Error(`no route ${routeId}`);
    const result = await loadHandler(route.handler)(proxyEvent(route, request), ctx);
    if (result.statusCode >= 300) throw new Error(`set-up ${routeId} answered ${result.statusCode}: ${result.body}`);
    return result;
  };
}
