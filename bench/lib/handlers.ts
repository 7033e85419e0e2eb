import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { resetRuntimeConfig } from '../../lambdas/shared/config';
import { closeServices, resetServices } from '../../lambdas/shared/services';
import type { RedisClient } from '../../lambdas/shared/redis';

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
